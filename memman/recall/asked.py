"""The subject asked about first: among claims about the same named thing,
one about another subject never outranks one about the subject asked.

"which Postgres version do we use" is matched equally, word for word, by
"We use Postgres 16 in staging and production" and by twenty facts such as
"The shipping health checker in canary uses Postgres 14". What tells them
apart is the sentence's subject, read as the reconciler reads it
(workers/stages/subject.py): the content words before its first verb. "We"
has none (the team, which is who "we" asks about); "the shipping health
checker in canary" has four, none of which the question says. The second is
a true fact about another subject, and it is the reconciler's own rule that a
different subject is a different fact (docs/time.md); recall applies the same
reading when ordering.

The rule, applied after scoring and before succession (so a successor still
moves above what it replaced):

- it only looks at results that name one of the query's named entities
  (canonical, workers/entities/aliases.py) and state a value in their
  predicate ("uses Postgres 14", "runs every 16 minutes"; not the "348" of
  "Mei reviewed PR #348", which names the subject): competing claims about
  the same thing, the kind of fact that changes and that the truth week asks
  about. A query without a name is left alone, and so is every other result
  (the subject reading is a rule, not a parser: "Mei wants review comments as
  numbered lists" reads its subject up to "numbered", so applied to every
  sentence it would push good answers down);
- such a result is *about another subject* when its subject has content words
  and the query says none of them; it is *about the asked subject* when its
  subject has no content words ("We use ...", "Postgres is ...", "Dana: ...")
  or shares one with the query;
- each result about the asked subject moves up above the results about
  another subject that outranked it, but never above one that says more of
  the query (a higher keyword coverage, `signals.keyword`): the subject only
  decides between claims that match the question equally well. Nothing else
  moves, so scores are no longer monotonic where one moved (as with
  successors).

Why not a fused signal: the static embedder pools every token of a stored
text but only the query's content words, so a memory with more function
words ("We use ... in staging and production") sits a little further from
the query than a look-alike whose subject words the centring removes; with
twenty look-alikes one of them is always closer. Pooled the same way as the
query (content words, store weights), the "we" sentence is the closest (0.60
against 0.53), but stored vectors are events: that would be a re-embedding and
a refit of the vector signal, recall-quality work of its own. The subject is
what the question discriminates on, and reading it needs no fit. On the
recall benchmark (tools/recall_bench, both halves) this step changes no
question's hit or MRR.
"""

from __future__ import annotations

from collections.abc import Sequence

from memman.results import RecallHit
from workers.stages.subject import CHANGE_WORDS, STOPWORDS, is_value, read, subject_end, tokens


def subject_words(text: str, names: Sequence[str]) -> frozenset[str]:
    """Content words of the sentence's subject: before its first verb (or a
    speaker's colon), without stopwords, values and the words of its names."""
    toks = tokens(text)
    end = subject_end(text, toks)
    written = {w for name in names for w in tokens(name)}
    return frozenset(
        t for t in toks[:end] if t not in STOPWORDS and t not in CHANGE_WORDS and not is_value(t) and t not in written
    )


def _states_a_value(hit: RecallHit) -> bool:
    reading = read(hit.content, hit.entities)
    return bool(reading.values - reading.subject_values)


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def order(hits: list[RecallHit], query_words: Sequence[str], query_names: set[str]) -> list[RecallHit]:
    """`hits` with each result about the asked subject above the results
    about another subject that outranked it (see the module docstring)."""
    if not query_names or len(hits) < 2:
        return hits
    from workers.entities import aliases

    asked = {_stem(w) for w in query_words}
    kind: dict[str, bool] = {}  # id -> about the asked subject (True) or another one (False)
    for h in hits:
        if not aliases.named(h.entities) & query_names or not _states_a_value(h):
            continue
        subject = {_stem(w) for w in subject_words(h.content, h.entities)}
        kind[h.id] = not subject or bool(subject & asked)
    if all(kind.values()) or not any(kind.values()):
        return hits
    out: list[RecallHit] = []
    for h in hits:
        out.insert(_place(out, h, kind) if kind.get(h.id) is True else len(out), h)
    return out


def _place(above: list[RecallHit], hit: RecallHit, kind: dict[str, bool]) -> int:
    """Where `hit` goes among the results `above` it: before the results about
    another subject that say no more of the query than it does."""
    place = len(above)
    for n in range(len(above) - 1, -1, -1):
        if kind.get(above[n].id) is False:
            if above[n].signals.keyword > hit.signals.keyword:
                break
            place = n
    return place
