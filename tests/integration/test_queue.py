"""`scheduler queue`: failed and dead-lettered inputs are listed and shown;
retry and purge are events, so a replay rebuilds the same queue; bad input
changes nothing."""

from __future__ import annotations

from pathlib import Path

from events.types import DerivationFailed, MemoryId
from memman.service import Memman
from tests.cli.conftest import Cli, assert_error


def _dead_letter(data_dir: Path, text: str) -> int:
    """An input the drain gave up on, as the drain records it (DerivationFailed, dead)."""
    with Memman(data_dir) as app:
        remembered = app.remember(text)
        for attempt in range(1, 6):
            app.db.log.append(
                DerivationFailed(input_id=MemoryId(remembered.id), stage="extract", error="provider down",
                                 attempt=attempt, dead=attempt == 5, retry_after=None),
                actor="drain", causation=remembered.seq, stage=f"extract#{attempt}",
            )
        return remembered.seq


def test_retry_and_purge_are_events_and_replay_rebuilds_the_queue(cli: Cli) -> None:
    first = _dead_letter(cli.data_dir, "The lighthouse keeper retired in spring")
    second = _dead_letter(cli.data_dir, "The orchard ladder has eleven rungs")
    failed = cli.json("scheduler", "queue", "failed")["items"]
    assert [(i["seq"], i["state"], i["attempts"]) for i in failed] == [(first, "dead", 5), (second, "dead", 5)]
    shown = cli.json("scheduler", "queue", "show", str(first))
    assert shown["item"]["text"] == "The lighthouse keeper retired in spring"
    assert [d["stage"] for d in shown["history"]] == [f"extract#{n}" for n in range(1, 6)]

    retried = cli.json("scheduler", "queue", "retry", str(first), "--reason", "provider is back")
    assert retried["action"] == "retried" and retried["items"] == [first]
    purged = cli.json("scheduler", "queue", "purge", "--all-dead")
    assert purged["items"] == [second]
    types = [e["type"] for e in cli.events()][-2:]
    assert types == ["work.retried", "work.purged"]

    def states() -> list[tuple[int, str]]:
        rows = cli.json("scheduler", "queue", "list", "--state", "pending", "--state", "purged")["items"]
        return [(i["seq"], i["state"]) for i in rows]

    assert states() == [(first, "pending"), (second, "purged")]
    cli.ok("events", "replay")
    assert states() == [(first, "pending"), (second, "purged")]
    drained = cli.json("scheduler", "drain")["stores"][0]
    assert drained["processed"] == 1  # the retried one; the purged one is left alone
    assert cli.json("scheduler", "queue", "list", "--state", "done")["items"][0]["seq"] == first


def test_bad_queue_input_is_one_line_and_appends_nothing(cli: Cli) -> None:
    seq = _dead_letter(cli.data_dir, "The canal lock opens at dawn")
    pending = cli.remember("The attic window sticks in winter")
    pending_seq = cli.events()[-1]["seq"]
    head = len(cli.events())
    assert_error(cli("scheduler", "queue", "retry", "999"), 3, contains=["no queue item with input seq 999"])
    assert_error(cli("scheduler", "queue", "retry", str(pending_seq)), 2, contains=["is pending; only failed or dead"])
    assert_error(cli("scheduler", "queue", "purge"), 2, contains=["name the input seqs"])
    assert_error(cli("scheduler", "queue", "purge", "--all-failed"), 2, contains=["no failed items"])
    assert_error(cli("scheduler", "queue", "retry", str(seq), "--all-dead"), 2, contains=["use just one of"])
    assert_error(cli("scheduler", "queue", "show", "0"), 2)
    assert_error(cli("scheduler", "queue", "list", "--state", "weird"), 2)
    assert len(cli.events()) == head and pending


def test_queue_writes_are_refused_while_stopped(cli: Cli) -> None:
    seq = _dead_letter(cli.data_dir, "The bell tower clock runs fast")
    cli.ok("scheduler", "stop")
    assert_error(cli("scheduler", "queue", "retry", str(seq)), 4, contains=["recall-only"])
    assert cli.json("scheduler", "queue", "failed")["items"][0]["state"] == "dead"
