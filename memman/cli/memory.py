"""The agent verbs: remember, recall, replace, forget, restore."""

from __future__ import annotations

import sys

import click

from events.types import CATEGORIES, SOURCES
from memman import validate
from memman.cli.context import AppContext, emit_json, json_option, pass_app, raw_option
from memman.recall.fusion import DEFAULT_MIN_SCORE
from memman.render import recall_diagnostics, recall_lines, remembered_line


def _text_arg(text: str) -> str | bytes:
    """`-` reads the text from stdin, as raw bytes so bad UTF-8 is reported, not mangled."""
    return sys.stdin.buffer.read() if text == "-" else text


def _echo_changed(result, json_: bool) -> None:  # type: ignore[no-untyped-def]
    if json_:
        emit_json(result)
    else:
        click.echo(f"{result.action} {result.id} ({result.status})")


@click.command()
@click.argument("text")
@click.option("--cat", "category", type=click.Choice(CATEGORIES), default="general", show_default=True)
@click.option("--imp", "importance", type=click.IntRange(1, 5), default=3, show_default=True, help="Importance 1-5.")
@click.option("--entities", help="Comma-separated entities, e.g. 'SQLite,Postgres'.")
@click.option("--source", type=click.Choice(SOURCES), default="agent", show_default=True)
@click.option("--meta", multiple=True, metavar="K=V", help="Metadata, repeatable.")
@click.option("--at", "at", metavar="ISO-8601", help="When it was true or said (valid time; default: now).")
@click.option("--replaces", metavar="ID", help="The memory this one replaces (the drain supersedes it).")
@click.option("--until", "until", metavar="ISO-8601", help="When it stops being true (an explicit end of validity).")
@click.option("--personal/--project", "personal", default=None,
              help="Personal store (follows you everywhere) or this project's [preferences personal, else project].")
@click.option("--redact", is_flag=True, help="Store a text holding a secret with the secret masked (else refused).")
@click.option("--id", "key", metavar="KEY", help="Idempotency key: a retry with the same KEY appends nothing.")
@json_option
@pass_app
def remember(ctx: AppContext, text, category, importance, entities, source, meta, at, replaces, until, personal, key, redact, json_) -> None:  # type: ignore[no-untyped-def]
    """Remember TEXT (use - to read it from stdin). Instant: no network.
    Inside a project (a git root or a .memman marker) it goes to the
    project's store; preferences and --personal go to the personal store
    ('memman store which' shows both). With --id, remembering the same KEY
    again (a retried hook) is a no-op that prints the first memory's id.

    Text inside <private>...</private> is never stored. A text that looks
    like it holds a secret (API key, private key, "password is X", a
    high-entropy token) is refused, or stored masked with --redact.

    \b
    Example:
      memman remember "Chose SQLite: zero deps, embeddable" --cat decision
      memman remember "I prefer tabs over spaces" --cat preference
      memman remember "CI runs on Buildkite" --replaces 7QX2K9ZB
      memman remember "Code freeze until Friday" --until 2026-12-12T00:00:00Z
      memman remember "Deploys freeze on Fridays" --id turn-8f2c
    """
    result = ctx.scoped.remember(
        _text_arg(text),
        personal=personal,
        category=category,
        importance=importance,
        entities=entities,
        source=source,
        meta=list(meta),
        at=validate.moment(at) if at else None,
        redact=redact,
        replaces=replaces,
        until=validate.moment(until) if until else None,
        key=key,
    )
    if json_:
        emit_json(result)
    else:
        click.echo(remembered_line(result))
    _kick(ctx)


def _kick(ctx: AppContext) -> None:
    """New text waits for the drain: make sure one runs (memman/scheduler/autodrain.py)."""
    from memman.scheduler.autodrain import kick

    kick(ctx.data_dir)


@click.command()
@click.argument("query")
@click.option("--cat", "category", type=click.Choice(CATEGORIES), help="Only this category.")
@click.option("--source", type=click.Choice(SOURCES), help="Only this source.")
@click.option("--limit", type=click.IntRange(1, 1000), default=10, show_default=True)
@click.option("--basic", is_flag=True, help="Keyword only (no embeddings): the fastest path.")
@click.option("--expand", is_flag=True, help="Add the LLM's synonyms and entities to the keyword query (cached).")
@click.option("--intent", type=click.Choice(["why", "when", "entity", "general"]), help="Override intent detection.")
@click.option("--graph/--no-graph", "graph", default=None, help="Force graph expansion on or off [per intent].")
@click.option("--as-of", "as_of", metavar="ISO-8601", help="What was true then (valid time).")
@click.option("--known-at", "known_at", metavar="ISO-8601", help="What had been recorded by then (the audit view).")
@click.option("--history", is_flag=True, help="After each result, the memories it superseded (its chain).")
@click.option(
    "--min-score",
    "min_score",
    type=float,
    metavar="P",
    help=f"Leave out results scoring below P, a probability of relevance 0..1 [{DEFAULT_MIN_SCORE}].",
)
@click.option(
    "--order", type=click.Choice(["score", "time"]), default="score", show_default=True,
    help="score: best first; time: chronological by occurred time.",
)
@click.option(
    "--fenced", is_flag=True,
    help="Print the results as the <memories> block agents get: marked untrusted, escaped, so text cannot act as instructions.",
)
@raw_option
@json_option
@pass_app
def recall(ctx: AppContext, query, category, source, limit, basic, expand, intent, graph, as_of, known_at, history, min_score, order, fenced, raw, json_) -> None:  # type: ignore[no-untyped-def]
    """Recall memories relevant to QUERY, best first: keyword and meaning
    (vectors) found, scored as a calibrated probability of relevance, and
    expanded over the memory graph by the query's intent where that helps.
    Nothing above --min-score means nothing relevant is known.
    Searches this project's store and the personal store, project first.
    A newer value always ranks above the one it replaced, which is marked
    (superseded / older / expired). --as-of and --known-at combine.

    \b
    Example:
      memman recall "why did we pick sqlite" --limit 5
      memman recall "what is the rate limit" --as-of 2026-01-31T00:00:00Z
      memman recall "deploys last week" --order time --min-score 0.5
      memman recall "what is the rate limit" --known-at 2026-02-01T00:00:00Z
      memman recall "which CI do we use" --history
      memman recall "what did we decide on 4 February"
      memman recall "staging database" --fenced     # for a tool that hands it to a model
    """
    if fenced and (json_ or raw):
        from events.errors import BadInput

        raise BadInput(f"use either --fenced or {'--json' if json_ else '--raw'}, not both")
    result = ctx.scoped.recall(
        query,
        limit=limit,
        category=category,
        source=source,
        basic=basic,
        expand=expand,
        intent=intent,
        graph=graph,
        as_of=validate.moment(as_of) if as_of else None,
        min_score=min_score,
        order=order,
        known_at=validate.moment(known_at) if known_at else None,
        history=history,
    )
    ctx.say(recall_diagnostics(result))
    if json_:
        emit_json(result)
    elif fenced:
        from memman.integration.fence import FENCED_CHARS, fence, items

        click.echo(fence(items(result.results), max_chars=FENCED_CHARS) or "no memories matched")
    else:
        click.echo("\n".join(recall_lines(result, raw=raw)))


@click.command()
@click.argument("memory_id")
@click.argument("text")
@click.option("--cat", "category", type=click.Choice(CATEGORIES), help="New category (default: keep).")
@click.option("--imp", "importance", type=click.IntRange(1, 5), help="New importance (default: keep).")
@click.option("--entities", help="New comma-separated entities (default: keep).")
@click.option("--source", type=click.Choice(SOURCES), help="New source (default: keep).")
@click.option("--meta", multiple=True, metavar="K=V", help="Metadata to set, repeatable (merged).")
@click.option("--redact", is_flag=True, help="Store a text holding a secret with the secret masked (else refused).")
@json_option
@pass_app
def replace(ctx: AppContext, memory_id, text, category, importance, entities, source, meta, redact, json_) -> None:  # type: ignore[no-untyped-def]
    """Replace the text of memory MEMORY_ID; unspecified metadata is kept.
    Secrets and <private> sections are handled as by 'remember'.

    \b
    Example:
      memman replace 7QX2K9ZB "API timeout is now 60s"
    """
    result = ctx.scoped.replace(
        memory_id,
        _text_arg(text),
        category=category,
        importance=importance,
        entities=entities,
        source=source,
        meta=list(meta) or None,
        redact=redact,
    )
    _echo_changed(result, json_)
    _kick(ctx)


@click.command()
@click.argument("memory_id")
@click.option("--reason", default="", help="Why (kept in the audit log).")
@json_option
@pass_app
def forget(ctx: AppContext, memory_id, reason, json_) -> None:  # type: ignore[no-untyped-def]
    """Forget memory MEMORY_ID at once (undo with 'memman restore').

    \b
    Example:
      memman forget 7QX2K9ZB --reason "no longer true"
    """
    _echo_changed(ctx.scoped.forget(memory_id, reason), json_)


@click.command()
@click.argument("memory_id")
@json_option
@pass_app
def restore(ctx: AppContext, memory_id, json_) -> None:  # type: ignore[no-untyped-def]
    """Undo a forget of memory MEMORY_ID.

    \b
    Example:
      memman restore 7QX2K9ZB
    """
    _echo_changed(ctx.scoped.restore(memory_id), json_)


def register(group: click.Group) -> None:
    for command in (remember, recall, replace, forget, restore):
        group.add_command(command)
