"""Entity canonicalisation: aliases in the shipped list, case, possessives
and acronym plurals fold to one name; names that merely end in "s" do not;
values stay values unless listed as names; short aliases expand a query only
when written in capitals."""

from __future__ import annotations

import pytest

from workers.entities.aliases import canonical, expansion, named, parse, shipped, variants


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Postgres", "postgresql"),
        ("PostgreSQL", "postgresql"),
        ("postgres", "postgresql"),
        ("k8s", "kubernetes"),
        ("Kubernetes", "kubernetes"),  # not folded to "kubernete"
        ("JS", "javascript"),
        ("JavaScript", "javascript"),
        ("Mongo", "mongodb"),
        ("MongoDB", "mongodb"),
        ("NodeJS", "node.js"),
        ("APIs", "api"),  # an acronym's plural
        ("URLs", "url"),
        ("LLMs", "large language model"),  # a listed plural
        ("Dana's", "dana"),
        ("Dana’s", "dana"),
        ("Redis", "redis"),  # ends in s, not a plural
        ("Jenkins", "jenkins"),
        ("  Grafana  Cloud ", "grafana cloud"),  # unknown: folded only
    ],
)
def test_each_spelling_has_one_canonical_name(name: str, expected: str) -> None:
    assert canonical(name) == expected


def test_variants_list_the_canonical_name_first_then_every_alias() -> None:
    assert variants("Postgres")[0] == "postgresql"
    assert set(variants("k8s")) == {"kubernetes", "k8s", "kube"}
    assert variants("Grafana") == ("grafana",)


def test_named_keeps_names_and_listed_aliases_but_drops_values() -> None:
    assert named(["Postgres", "PostgreSQL", "30s", "3.11", "k8s", "S3"]) == {"postgresql", "kubernetes"}


@pytest.mark.parametrize(
    ("query", "added"),
    [
        ("why did we choose Postgres", {"postgresql", "pgsql"}),
        ("why did we choose postgresql", {"postgres", "pgsql"}),
        ("is the k8s cluster up", {"kubernetes", "kube"}),
        ("we write JS", {"javascript", "ecmascript"}),
        ("we write js", set()),  # two letters in lower case: could be anything
        ("tell us about it", set()),  # "us" is not the USA
        ("flights to New York", {"new york city", "nyc"}),  # a two-word alias
        ("the weekly report", set()),
    ],
)
def test_expansion_adds_the_other_forms_of_names_the_query_uses(query: str, added: set[str]) -> None:
    assert set(expansion(query)) == added


def test_the_list_file_format() -> None:
    table = parse("# comment\n\nFoo DB = foo, FooDatabase\nnot a rule\nFoo DB = fdb\n")
    assert canonical("FooDatabase", table) == "foo db"
    assert variants("fdb", table) == ("foo db", "foo", "foodatabase", "fdb")  # repeated lines merge
    assert len(shipped().forms) >= 30  # the shipped list is read from the package
