"""The story lexicon's word reader: the fast path for texts without an
apostrophe or a hyphen reads what the general path reads."""

from __future__ import annotations

import re

import pytest

from workers.stories.lexicon import told, told_words, words

_WORD = re.compile(r"[a-z0-9][a-z0-9'-]*")


def _slow(text: str) -> list[str]:
    out = []
    for w in _WORD.findall(text.lower().replace("\u2019", "'")):
        w = w.strip("'-")
        out.append(w[:-2] if w.endswith("'s") else w)
    return out


@pytest.mark.parametrize(
    "text",
    [
        "Dana: I sprained my ankle at climbing, physio on Monday.",
        "The doctor's note came; my boss’s reply too.",
        "re-check the on-call rota -- 'quoted' words'",
        "Moved auth onto the k8s cluster after deploys failed twice",
        "ÉCOLE and İstanbul, 3.11 and 8080",
        "",
    ],
)
def test_words_same_on_both_paths(text: str) -> None:
    assert words(text) == _slow(text)
    assert told(text) == told_words(_slow(text))


def test_words_drops_possessive_and_strips_quotes() -> None:
    assert words("The Doctor's 'note'") == ["the", "doctor", "note"]


def test_the_phrase_pattern_matches_what_the_plain_alternation_matches() -> None:
    """The phrases' pattern looks ahead for a first letter before trying its
    alternatives; it finds exactly what `\\bp1\\b|\\bp2\\b|...` finds."""
    from workers.stories import lexicon

    phrases = sorted(lexicon._BY_PHRASE, key=len, reverse=True)
    plain = re.compile("|".join(rf"\b{re.escape(p)}\b" for p in phrases))
    for text in (
        "I broke my arm on my last day and was laid off after two weeks' notice",
        "jet lag, jet-lagged; the van broke down before the test drive; second-hand",
        "the job timed out, timing out again, ran out of memory; from now on no longer",
        "a first dayx and xlast day are not phrases",
    ):
        said = " ".join(words(text))
        assert [m.span() for m in lexicon._PHRASES.finditer(said)] == [m.span() for m in plain.finditer(said)]
    assert told("My last day at Stark was Friday").families == frozenset({"work"})
