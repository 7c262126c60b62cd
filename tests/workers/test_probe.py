"""The reconciler's keyword probe: active memories sharing a fact's rarest
words, scored by their summed rarity, at a bounded cost: superseded and
excluded memories never come back, and a word too common for the budget
reads only its newest holders."""

from __future__ import annotations

from pathlib import Path

from memman.maintenance import drain_all
from memman.service import Memman
from workers.stages.probe import KeywordProbe


def _ids(app: Memman) -> dict[str, str]:
    app.db.main.catch_up()
    return {c: i for i, c in app.db.main.conn.execute("SELECT id, content FROM memories WHERE status='active'")}


def test_the_memory_sharing_the_rarest_words_ranks_first(app: Memman, data_dir: Path) -> None:
    for n in range(6):
        app.remember(f"The deploy pipeline runs step {n} every night")
    app.remember("The flamingo cluster deploy pipeline uses canary releases")
    drain_all(data_dir)
    ids = _ids(app)
    probe = KeywordProbe(app.db.main.conn)
    found = probe.search("flamingo canary deploy", limit=3, exclude=[])
    assert found[0] == ids["The flamingo cluster deploy pipeline uses canary releases"]
    assert len(found) == 3 and set(found) <= set(ids.values())


def test_excluded_and_superseded_memories_are_never_candidates(app: Memman, data_dir: Path) -> None:
    old = app.remember("The billing timeout is 30s")
    drain_all(data_dir)
    app.remember("The billing timeout is 45s")
    drain_all(data_dir)
    app.db.main.catch_up()
    status = dict(app.db.main.conn.execute("SELECT id, status FROM memories").fetchall())
    assert status[old.id] == "superseded"
    probe = KeywordProbe(app.db.main.conn)
    found = probe.search("billing timeout", limit=5, exclude=[])
    assert old.id not in found and len(found) == 1
    assert probe.search("billing timeout", limit=5, exclude=found) == []


def test_a_word_too_common_for_the_budget_reads_its_newest_holders(app: Memman, data_dir: Path) -> None:
    texts = [f"Service number {n} writes logs to the shared bucket" for n in range(12)]
    for text in texts:
        app.remember(text)
    drain_all(data_dir)
    ids = _ids(app)
    probe = KeywordProbe(app.db.main.conn, budget=4)
    assert probe.frequency("bucket") == 12
    found = probe.search("bucket", limit=3, exclude=[])
    newest = [ids[t] for t in reversed(texts) if t in ids][:3]
    assert found == newest


def test_words_nothing_holds_and_empty_text_find_nothing(app: Memman, data_dir: Path) -> None:
    app.remember("Alice prefers tabs over spaces")
    drain_all(data_dir)
    probe = KeywordProbe(app.db.main.conn)
    assert probe.search("", limit=5, exclude=[]) == []
    assert probe.search("zyzzyva quux", limit=5, exclude=[]) == []
    assert probe.search('"tabs" OR (', limit=5, exclude=[])  # FTS syntax in text is only words


def test_cjk_text_goes_through_the_trigram_index(app: Memman, data_dir: Path) -> None:
    app.remember("東京のサーバーは毎晩再起動する")
    drain_all(data_dir)
    ids = _ids(app)
    found = KeywordProbe(app.db.main.conn).search("東京のサーバー", limit=5, exclude=[])
    assert found == [ids["東京のサーバーは毎晩再起動する"]]
