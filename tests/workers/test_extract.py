"""The rule extractor turns a remembered text into self-contained atomic facts.

It promises: sentences are split where a reader would split them and nowhere
else (abbreviations, versions, file names, URLs, paths, code and ellipses stay
whole); a fragment that cannot stand alone stays with its neighbour; at most
`max_facts` facts, with nothing dropped; entities and a category per fact; the
first fact keeps the input's id; and the output is a pure, fast function of the
input and the minted ids.
"""

from __future__ import annotations

import itertools
import time
import timeit
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workers.stages.extract import (
    ExtractInput,
    ExtractOutput,
    RuleExtractor,
    extract_entities,
    split_sentences,
)


def make_ids(prefix: str = "id") -> tuple[list[str], Callable[[], str]]:
    """An id minter that records what it minted."""
    minted: list[str] = []
    counter = itertools.count(1)

    def new_id() -> str:
        minted.append(f"{prefix}-{next(counter)}")
        return minted[-1]

    return minted, new_id


def extract(
    text: str,
    *,
    category: str = "general",
    entities: list[str] | None = None,
    importance: int = 3,
    max_facts: int = 8,
) -> ExtractOutput:
    _, new_id = make_ids()
    item = ExtractInput(
        memory_id="m-0",
        text=text,
        category=category,
        importance=importance,
        entities=entities or [],
    )
    return RuleExtractor(max_facts=max_facts).extract(item, new_id)


def texts(text: str, **kwargs: object) -> list[str]:
    return [f.text for f in extract(text, **kwargs).facts]  # type: ignore[arg-type]


# ---------------------------------------------------------------- sentence splitting


def test_terminal_punctuation_before_a_capital_or_digit_ends_a_sentence() -> None:
    assert split_sentences(
        "SQLite is embedded. Postgres needs a server! Is it worth it? 3 services use it."
    ) == [
        "SQLite is embedded.",
        "Postgres needs a server!",
        "Is it worth it?",
        "3 services use it.",
    ]


def test_a_full_stop_before_a_lowercase_word_does_not_end_a_sentence() -> None:
    assert split_sentences("Run make. then run the tests.") == ["Run make. then run the tests."]


@pytest.mark.parametrize(
    "text",
    [
        "Pick a fast store, e.g. SQLite for tests.",
        "Keep one writer, i.e. The drain worker.",
        "Store notes, logs, etc. Nothing else.",
        "We compared SQLite vs. Postgres last week.",
        "Ask Dr. Smith about the schema.",
        "Mr. Jones owns the deploy.",
        "The U.S. Army uses it.",
        "J. R. R. Tolkien wrote it.",
    ],
)
def test_abbreviations_and_initials_never_end_a_sentence(text: str) -> None:
    assert split_sentences(text) == [text]


@pytest.mark.parametrize(
    "text",
    [
        "Upgrade to Python 3.11.7 before Friday.",
        "Pi is 3.14 and e is 2.71 roughly.",
        "Edit config.toml and README.md first.",
        "See https://example.com/a.B/C.d?x=1 for details.",
        "The store is ~/.memman/Store.db on Linux.",
        "Open ./src/App.py and /etc/Hosts together.",
        "Run `make build. Then test` before pushing.",
        "Wait... Then it worked.",
        "Wait… Then it worked.",
    ],
)
def test_versions_files_urls_paths_code_and_ellipses_never_split(text: str) -> None:
    assert split_sentences(text) == [text]


def test_a_full_stop_after_a_url_or_file_name_still_ends_a_sentence() -> None:
    # The dot belongs to the sentence, not to the URL: whitespace follows it.
    assert split_sentences(
        "Docs are at https://example.com/docs. Config lives in config.toml. Done now."
    ) == ["Docs are at https://example.com/docs.", "Config lives in config.toml.", "Done now."]


def test_fenced_code_stays_one_sentence_with_its_introduction() -> None:
    text = "Deploy with this:\n```\nmake build. Then\nmake push\n```"
    assert split_sentences(text) == ["Deploy with this: ``` make build. Then make push ```"]


def test_newlines_and_bullet_lines_split_and_lose_their_markers() -> None:
    text = (
        "Intro line\n- first item here\n* second item here\n"
        "1. third item here\n2) fourth\n\nLast"
    )
    assert split_sentences(text) == [
        "Intro line",
        "first item here",
        "second item here",
        "third item here",
        "fourth",
        "Last",
    ]


def test_hard_wrapped_prose_is_rejoined_but_short_lowercase_notes_are_not() -> None:
    # A long line ending mid-sentence followed by a lowercase line is one sentence
    # wrapped by an editor; short lines are separate notes even in lowercase.
    text = (
        "We decided to keep the event log in SQLite because\n"
        "it is embedded and needs no server.\nuse uv\nprefer ruff"
    )
    assert split_sentences(text) == [
        "We decided to keep the event log in SQLite because it is embedded and needs no server.",
        "use uv",
        "prefer ruff",
    ]


def test_closing_quotes_and_brackets_stay_with_their_sentence() -> None:
    assert split_sentences('He said "Stop." Then he left. (Really.) Next one.') == [
        'He said "Stop."',
        "Then he left.",
        "(Really.)",
        "Next one.",
    ]


def test_cjk_full_stops_split_without_whitespace() -> None:
    assert split_sentences("日本語のテキストです。次の文です！") == ["日本語のテキストです。", "次の文です！"]


# ---------------------------------------------------------------- atomic facts


def test_one_sentence_gives_one_fact_with_whitespace_collapsed() -> None:
    assert texts("  We  chose\tSQLite\u00a0for the store.  ") == ["We chose SQLite for the store."]


def test_each_self_contained_sentence_is_a_fact() -> None:
    assert texts("We chose SQLite for the store. Alice Chen reviews every migration.") == [
        "We chose SQLite for the store.",
        "Alice Chen reviews every migration.",
    ]


@pytest.mark.parametrize(
    "second",
    [
        "It needs no server at all.",
        "This keeps backups trivially simple.",
        "That is why we dropped Postgres.",
        "These tradeoffs were written down.",
        "They agreed after a long review.",
        "He signed off on the plan.",
        "She wrote the migration herself.",
        "Also the tests run much faster.",
        "But the team still uses Redis.",
        "So backups are a file copy.",
        "Because writes are serialised anyway.",
        "Which matters for the CLI tests.",
        "And the drain worker agrees too.",
        "Then we benchmarked it twice.",
    ],
)
def test_a_sentence_led_by_an_anaphor_joins_the_previous_fact(second: str) -> None:
    # Rules cannot resolve "It" or "But", so the fact keeps its antecedent.
    assert texts(f"We chose SQLite for the store. {second}") == [
        f"We chose SQLite for the store. {second}"
    ]


def test_a_fragment_of_fewer_than_four_words_joins_the_previous_fact() -> None:
    assert texts("We chose SQLite for the store. Works great. Alice Chen agrees with it.") == [
        "We chose SQLite for the store. Works great.",
        "Alice Chen agrees with it.",
    ]


def test_a_short_first_sentence_joins_the_next_one() -> None:
    # Nothing precedes it, so a heading like "Stack:" leads the next fact instead.
    assert texts("Stack:\n- SQLite for the event log\n- Redis for the queue cache") == [
        "Stack: - SQLite for the event log",
        "Redis for the queue cache",
    ]


def test_max_facts_caps_the_facts_and_merges_the_rest_into_the_last() -> None:
    text = " ".join(f"Service number {i} runs on its own host." for i in range(1, 6))
    assert texts(text, max_facts=3) == [
        "Service number 1 runs on its own host.",
        "Service number 2 runs on its own host.",
        "Service number 3 runs on its own host. Service number 4 runs on its own host. "
        "Service number 5 runs on its own host.",
    ]


def test_max_facts_must_be_at_least_one() -> None:
    with pytest.raises(ValueError, match="max_facts must be at least 1"):
        RuleExtractor(max_facts=0)


@pytest.mark.parametrize(("text", "expected"), [("   \n\t ", ""), (" ... !! ", "... !!")])
def test_whitespace_or_punctuation_only_text_gives_one_stripped_fact(
    text: str, expected: str
) -> None:
    assert texts(text) == [expected]


def test_the_first_fact_keeps_the_input_id_and_later_facts_use_new_id() -> None:
    minted, new_id = make_ids("new")
    item = ExtractInput(
        memory_id="m-input",
        text="We chose SQLite for storage. Alice Chen owns the backups. Redis caches the hot keys.",
        category="general",
        importance=4,
        entities=[],
    )
    out = RuleExtractor().extract(item, new_id)
    assert [f.memory_id for f in out.facts] == ["m-input", "new-1", "new-2"]
    assert minted == ["new-1", "new-2"]  # exactly one id per extra fact
    assert [f.importance for f in out.facts] == [4, 4, 4]


def test_extraction_is_deterministic() -> None:
    text = "We chose SQLite on 2024-01-15. It is fast. Currently Alice Chen tunes port 8080."
    assert extract(text) == extract(text)


def test_unicode_and_emoji_text_is_kept_intact() -> None:
    out = extract("Café Zürich ships Ölwerk 2.0 🎉 to São Paulo. 東京のチームも使っています。")
    assert [f.text for f in out.facts] == [
        "Café Zürich ships Ölwerk 2.0 🎉 to São Paulo.",
        "東京のチームも使っています。",
    ]
    assert out.facts[0].entities == ["Café Zürich", "Ölwerk", "2.0", "São Paulo"]


def test_a_one_megabyte_text_finishes_without_catastrophic_backtracking_within_the_cap() -> None:
    sentence = "Alice deployed the API to staging on port 8080 in 200ms. It was fast. "
    text = sentence * (1_000_000 // len(sentence))
    start = time.perf_counter()
    out = extract(text, max_facts=8)
    elapsed = time.perf_counter() - start
    assert elapsed < 10  # typically ~0.07 s; catastrophic backtracking would take minutes
    assert len(out.facts) == 8
    # Nothing is dropped: the last fact runs to the end of the text.
    assert out.facts[-1].text.endswith("in 200ms. It was fast.")
    assert sum(len(f.text) for f in out.facts) > 0.99 * len(text.strip())


# ---------------------------------------------------------------- entities


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Alice Chen moved to New York and now uses SQLite, PostgreSQL and OpenAI.",
            ["Alice Chen", "New York", "SQLite", "PostgreSQL", "OpenAI"],
        ),
        # A common word opening a sentence is not a name; the name after it is.
        ("The team uses Redis.", ["Redis"]),
        ("We chose Redis.", ["Redis"]),
        ("Always use Black.", ["Black"]),
        ("Alice's laptop runs Ubuntu.", ["Alice", "Ubuntu"]),
        ("The API returns JSON and CI checks it. TODO: OK", ["API", "JSON", "CI"]),
    ],
)
def test_capitalised_names_and_acronyms_are_entities(text: str, expected: list[str]) -> None:
    assert extract_entities(text) == expected


def test_code_identifiers_are_entities() -> None:
    text = (
        "Call getUserById, user_id and os.path.join from memman.cli "
        "with `make test` and --data-dir."
    )
    assert extract_entities(text) == [
        "getUserById",
        "user_id",
        "os.path.join",
        "memman.cli",
        "make test",  # backticks stripped
        "--data-dir",
    ]


def test_paths_and_file_names_are_entities() -> None:
    text = (
        "Open /etc/hosts, ./src/app.py, ~/.memman, C:\\Users\\x and a/b/c.py; "
        "see config.toml and README.md."
    )
    assert extract_entities(text) == [
        "/etc/hosts",
        "./src/app.py",
        "~/.memman",
        "C:\\Users\\x",
        "a/b/c.py",
        "config.toml",
        "README.md",  # the sentence's full stop is not part of the name
    ]


def test_urls_and_emails_are_entities() -> None:
    text = "Send mail to bob@example.com or read https://example.com/docs?page=2."
    assert extract_entities(text) == [
        "bob@example.com",
        "https://example.com/docs?page=2",
    ]


def test_versions_are_entities_next_to_their_product() -> None:
    assert extract_entities("Python 3.11 replaced v1.2.3 and 2.0.0-rc1.") == [
        "Python",
        "3.11",
        "v1.2.3",
        "2.0.0-rc1",
    ]


def test_numbers_with_units_are_entities() -> None:
    text = "We measured 30s, 5 ms, 200ms, 10GB, 8 GiB, 99.9%, 3 days, 1,000 rps, $20 on port 8080."
    assert extract_entities(text) == [
        "30s",
        "5 ms",
        "200ms",
        "10GB",
        "8 GiB",
        "99.9%",
        "3 days",
        "1,000 rps",
        "$20",
        "port 8080",
    ]


def test_plain_numbers_punctuation_and_lowercase_words_are_not_entities() -> None:
    assert extract_entities("we have 3 cats and 42 dogs, which is fine -- and/or so.") == []


def test_user_entities_come_first_and_duplicates_are_dropped_case_insensitively() -> None:
    out = extract("SQLite beats Redis for Alice.", entities=["sqlite", "SQLite", " redis "])
    # The user's spelling wins over the text's for the same entity.
    assert out.facts[0].entities == ["sqlite", "redis", "Alice"]


def test_each_fact_gets_entities_from_its_own_text() -> None:
    out = extract("Alice Chen runs the SQLite backups. Bob Stone maintains Redis on port 6379.")
    assert [f.entities for f in out.facts] == [
        ["Alice Chen", "SQLite"],
        ["Bob Stone", "Redis", "port 6379"],
    ]


def test_extract_entities_is_fast_on_a_short_query() -> None:
    query = "how did we configure SQLite timeouts for the API on port 8080"
    runs = 500
    best = min(timeit.repeat(lambda: extract_entities(query), number=runs, repeat=5)) / runs
    # A catastrophic guard (a regex compiled per call, a scan of the code-point table):
    # measured about 15 µs; the best of five repeats keeps a loaded machine from failing it.
    assert best < 0.002, best


# ---------------------------------------------------------------- categories


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("I prefer tabs over spaces in Go code.", "preference"),
        ("I like dark mode in every editor.", "preference"),
        ("We always use uv to install packages.", "preference"),
        ("Never use pip inside the project venv.", "preference"),
        ("My favourite database is SQLite by far.", "preference"),
        ("I would rather ship small pull requests.", "preference"),
        ("We decided to keep the log append-only.", "decision"),
        ("The team chose SQLite for the store.", "decision"),
        ("We will migrate the CI next month.", "decision"),
        ("We are going with Redis for the cache.", "decision"),
        ("We switched to ruff from flake8 entirely.", "decision"),
        ("We adopt trunk-based development now.", "decision"),
        ("She picked msgspec over pydantic.", "decision"),
        ("I learned that WAL mode needs shared memory.", "insight"),
        ("We realised the cache was never warm.", "insight"),
        ("It turns out the index was missing.", "insight"),
        ("The tests flaked because the clock moved.", "insight"),
        ("The reason was a stale lock file.", "insight"),
        ("The root cause was a missing index.", "insight"),
        ("The lesson is to pin every dependency.", "insight"),
        ("Currently the team is migrating logs.", "context"),
        ("Alice is working on the drain worker.", "context"),
        ("This sprint covers recall quality.", "context"),
        ("Today the deploy pipeline is frozen.", "context"),
        ("Right now the queue is backed up.", "context"),
        ("Redis runs on port 6379 in staging.", "fact"),
        ("that was a long day for everyone.", "general"),
        ("Should we move the store to Postgres?", "general"),  # a question states nothing
    ],
)
def test_category_is_inferred_from_cues(text: str, category: str) -> None:
    assert extract(text).facts[0].category == category


@pytest.mark.parametrize(
    ("text", "category"),
    [
        # decision > preference > insight > context, whatever the word order.
        ("I prefer Go, so we decided to rewrite it in Go.", "decision"),
        ("I prefer tabs because they are accessible.", "preference"),
        ("Today I learned that WAL mode helps readers.", "insight"),
        ("Currently working on the SQLite migration.", "context"),
    ],
)
def test_the_strongest_cue_wins_in_a_fixed_order(text: str, category: str) -> None:
    assert extract(text).facts[0].category == category


def test_like_is_a_preference_only_with_a_subject() -> None:
    # "tools like Ruff" compares; it states no taste.
    assert extract("Linters like Ruff catch bugs early.").facts[0].category == "fact"


def test_each_fact_gets_its_own_category() -> None:
    out = extract("We decided to use SQLite for storage. I prefer short commit messages always.")
    assert [f.category for f in out.facts] == ["decision", "preference"]


def test_a_user_category_is_kept_for_every_fact() -> None:
    out = extract(
        "We decided to use SQLite for storage. I prefer short commit messages always.",
        category="insight",
    )
    assert [f.category for f in out.facts] == ["insight", "insight"]


def test_an_unknown_user_category_is_inferred_with_a_warning() -> None:
    out = extract("We decided to use SQLite for storage.", category="todo")
    assert out.facts[0].category == "decision"
    assert out.warnings == ["unknown category 'todo'; inferred one instead"]


# ---------------------------------------------------------------- warnings


def test_transient_cues_are_warned_about_but_kept() -> None:
    out = extract(
        "Currently the deploy is frozen. TODO unfreeze it right now. Next step is a retro."
    )
    assert out.warnings == [
        "looks transient: 'Currently'",
        "looks transient: 'TODO'",
        "looks transient: 'right now'",
        "looks transient: 'Next step'",
    ]
    assert [f.text for f in out.facts] == [
        "Currently the deploy is frozen.",
        "TODO unfreeze it right now.",
        "Next step is a retro.",
    ]


def test_receipts_and_line_numbers_are_warned_about() -> None:
    out = extract("The bug is on line 42, see L120 and src/app.py:42: for the trace.")
    assert out.warnings == [
        "looks like a receipt: 'line 42'",
        "looks like a receipt: 'L120'",
        "looks like a receipt: 'src/app.py:42:'",
    ]


def test_very_long_text_is_warned_about() -> None:
    out = extract("Alice keeps notes. " * 200)  # 19 chars x 200, as given
    assert out.warnings == ["very long text: 3800 chars (over 2000); consider splitting it"]
    assert extract("x" * 2000).warnings == []  # the limit itself is fine


def test_a_clean_durable_statement_has_no_warnings() -> None:
    assert extract("We chose SQLite for the event log.").warnings == []


# ---------------------------------------------------------------- properties

_ALPHABET = st.sampled_from(
    list("aZ .!?\n\t-*`/:_~$%…。") + ["e.g. ", "It ", "3.11", "http://x.io/", "Alice ", "é", "🎉"]
)


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.text(), st.lists(_ALPHABET, max_size=60).map("".join)))
def test_extract_never_raises_and_every_fact_comes_from_the_input(text: str) -> None:
    out = extract(text, max_facts=3)
    squeezed = "".join(text.split())
    assert 1 <= len(out.facts) <= 3
    assert len({f.memory_id for f in out.facts}) == len(out.facts)
    for fact in out.facts:
        assert fact.text == " ".join(fact.text.split())
        assert "".join(fact.text.split()) in squeezed
        assert fact.text or not squeezed  # empty only when the input is blank


# The gates that let a recall skip compiling the entity patterns (docs/scale.md):
# a text the gate turns away must hold no match at all.

_GATE_ALPHABET = st.sampled_from(list("aAbZmyVqSQL09_-./\\:@`$€£¥~%+#'’ \n\t,ÉéǅϒⒶ") + ["--", "http://", "port 80", "v1.2"])


@given(st.lists(_GATE_ALPHABET, max_size=24).map("".join))
@settings(max_examples=3000, deadline=None)
def test_a_text_the_special_token_gate_turns_away_holds_no_special_token(text: str) -> None:
    from workers.stages.extract import _MAYBE_SPECIAL, _SPECIAL

    if _MAYBE_SPECIAL.search(text) is None:
        assert list(_SPECIAL.finditer(text)) == []


@given(st.lists(_GATE_ALPHABET, max_size=24).map("".join))
@settings(max_examples=3000, deadline=None)
def test_a_text_without_upper_case_letters_holds_no_capitalised_run(text: str) -> None:
    from workers.stages.extract import _CAP_RUN

    if not any(map(str.isupper, text)):
        assert list(_CAP_RUN.finditer(text)) == []
