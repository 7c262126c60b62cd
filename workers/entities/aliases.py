"""Canonical entity names: "Postgres" and "PostgreSQL" are one entity.

`canonical(name)` is the one place a name becomes the key every consumer
compares: the reconciler (same subject?), the entity graph (which memories
share a name) and recall (query entities, entity overlap, keyword expansion).

    canonical("Postgres") == canonical("postgresql") == "postgresql"
    canonical("k8s") == "kubernetes"      (an alias may hold a digit)
    canonical("APIs") == "api"            (an acronym's plural)
    canonical("Dana's") == "dana"         (a possessive)
    canonical("Grafana") == "grafana"     (unknown names: case-folded only)

The alias list ships with the package (workers/entities/aliases.txt).
Plurals are folded only where that is safe: an all-capitals acronym with a
trailing "s" (APIs, URLs), and plurals listed in the file. Names such as
Postgres, Kubernetes, Redis or Jenkins end in "s" without being plurals, so
a general rule would merge what it should not; the keyword index stems
ordinary words anyway (porter).

Learned aliases (from the store's own text) are not inferred: a wrong merge
would link unrelated memories and could make the reconciler supersede a
true fact; extend the list instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from types import MappingProxyType

import msgspec

_DIGIT = re.compile(r"\d")
_ACRONYM_PLURAL = re.compile(r"^[A-Z][A-Z0-9]+s$")
_POSSESSIVE = re.compile(r"['’]s$", re.IGNORECASE)
_TOKEN = re.compile(r"[\w][\w.+#-]*[\w+#]|\w[+#]*", re.UNICODE)
SHORT = 2  # an alias this short counts in a query only in capitals
MAX_WORDS = 4


class AliasTable(msgspec.Struct, frozen=True):
    canonical: MappingProxyType  # folded surface form -> folded canonical name
    forms: MappingProxyType  # folded canonical name -> (canonical, *aliases), folded


def fold(name: str) -> str:
    return " ".join(name.casefold().split())


def parse(text: str) -> AliasTable:
    """The table from the file's text: `Canonical = alias, alias` lines."""
    canonical: dict[str, str] = {}
    forms: dict[str, tuple[str, ...]] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        head, _, tail = line.partition("=")
        name = fold(head)
        names = [name, *(fold(a) for a in tail.split(",") if a.strip())]
        forms[name] = tuple(dict.fromkeys(forms.get(name, ()) + tuple(names)))
        for form in names:
            canonical.setdefault(form, name)
    return AliasTable(MappingProxyType(canonical), MappingProxyType(forms))


@cache
def shipped() -> AliasTable:
    """The shipped list, read once per process on first use (an immutable
    value, not a cache that grows; nothing is read at import)."""
    return parse((Path(__file__).parent / "aliases.txt").read_text(encoding="utf-8"))  # package data


def canonical(name: str, table: AliasTable | None = None) -> str:
    table = table or shipped()
    folded = fold(_POSSESSIVE.sub("", name.strip()))
    found = table.canonical.get(folded)
    if found is not None:
        return found
    stripped = name.strip()
    if _ACRONYM_PLURAL.match(stripped):
        return table.canonical.get(folded[:-1], folded[:-1])
    return folded


def variants(name: str, table: AliasTable | None = None) -> tuple[str, ...]:
    """Every folded surface form of `name`'s entity, its canonical name first."""
    table = table or shipped()
    key = canonical(name, table)
    return table.forms.get(key, (key,))


def is_alias(name: str, table: AliasTable | None = None) -> bool:
    return fold(name) in (table or shipped()).canonical


def named(entities: Iterable[str], table: AliasTable | None = None) -> set[str]:
    """The canonical named entities: values (30s, 3.11) are left out, unless
    the list knows them as a name (k8s)."""
    table = table or shipped()
    return {canonical(e, table) for e in entities if not _DIGIT.search(e) or is_alias(e, table)}


def expansion(text: str, table: AliasTable | None = None) -> list[str]:
    """The other forms of every entity `text` names by a listed form, for the
    keyword query ("why did we choose Postgres" -> postgresql, postgre, ...)."""
    table = table or shipped()
    tokens = [(m.group(0), m.group(0).casefold()) for m in _TOKEN.finditer(text)]
    present = {t for _, t in tokens}
    found: dict[str, None] = {}
    for size in range(1, MAX_WORDS + 1):
        for start in range(len(tokens) - size + 1):
            window = tokens[start : start + size]
            form = " ".join(t for _, t in window)
            name = table.canonical.get(form)
            if name is None or (len(form) <= SHORT and not window[0][0].isupper()):
                continue
            for other in table.forms[name]:
                if other != form and other not in present:
                    found.setdefault(other, None)
    return list(found)
