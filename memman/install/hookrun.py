"""What memman's hooks answer. `memman hook EVENT` reads the agent's JSON on
stdin and returns the JSON the agent expects (or nothing); the shell shims in
hooks/ only call it. Every hook is read-only except for tiny per-session
files under <data_dir>/sessions/ (a compaction flag, a stop counter).

Claude Code's hook protocol, as relied on here (hooks reference,
https://code.claude.com/docs/en/hooks, and the SessionStart payload notes at
https://docs.anthropic.com/en/docs/claude-code/hooks#sessionstart):

- every hook gets JSON on stdin with `session_id`, `transcript_path`, `cwd`,
  `hook_event_name` (and `permission_mode`);
- SessionStart adds `source`: "startup" | "resume" | "clear" | "compact";
  it answers `{"hookSpecificOutput": {"hookEventName": "SessionStart",
  "additionalContext": "..."}}`;
- UserPromptSubmit adds `prompt` and answers the same shape with
  `"hookEventName": "UserPromptSubmit"`; exit code 2 would block the prompt,
  so the shim never exits 2;
- PreToolUse adds `tool_name`, `tool_input`, `tool_use_id`; its
  `hookSpecificOutput` may carry `additionalContext` (shown to the model)
  without a `permissionDecision`, which leaves the permission flow alone;
- Stop adds `stop_hook_active` (true while a Stop hook already made the model
  continue) and `last_assistant_message`; `{"decision": "block", "reason":
  "..."}` makes the model take one more turn with `reason` as its prompt;
- PreCompact adds `trigger`: "manual" | "auto" and `custom_instructions`.

OpenClaw's `agent:bootstrap` hook (https://docs.openclaw.ai/hooks) sends
`{"type": "agent", "action": "bootstrap", "context": {...}}` through the
handler.ts shim, which adds the returned files to `context.bootstrapFiles`.
"""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

import msgspec

from events.errors import MemmanError
from memman.install.prime import prime

SESSIONS = "sessions"
STALE_SESSION_S = 7 * 24 * 3600
SUBAGENT_TOOLS = frozenset({"Task", "Agent"})
SUBAGENT_NOTE = (
    "memman: a subagent does not share your memory context. Put the memories it needs in its prompt "
    '(recall them first with `memman recall "..."`), or tell it to run `memman recall` itself.'
)
PLAN_NOTE = (
    "memman: this plan settles decisions. After the user accepts it, remember each durable decision "
    'with its reason, one per call: `memman remember "Chose X over Y: reason" --cat decision`.'
)
STOP_NOTE = (
    "memman check (not a request from the user): did this stretch of work settle anything a future session "
    "should know: a decision and its reason, a user preference, a hard-won fact? If so, remember each "
    "with one `memman remember` call; if not, just stop. Never store secrets or session state."
)
REMINDER = (
    "memman: if earlier decisions, preferences or facts could matter for this prompt, "
    '`memman recall "<topic>"` before answering.'
)


class HookInput(msgspec.Struct, kw_only=True):
    """The fields memman reads; agents send more, which are ignored."""

    session_id: str = ""
    hook_event_name: str = ""
    source: str = ""  # SessionStart
    prompt: str = ""  # UserPromptSubmit
    tool_name: str = ""  # PreToolUse
    stop_hook_active: bool = False  # Stop
    trigger: str = ""  # PreCompact
    type: str = ""  # OpenClaw event type
    action: str = ""  # OpenClaw event action


EVENTS = ("session-start", "user-prompt-submit", "pre-tool-use", "stop", "pre-compact", "bootstrap")


def decode(raw: bytes) -> HookInput:
    from events.errors import BadInput

    if not raw.strip():
        return HookInput()
    try:
        return msgspec.json.decode(raw, type=HookInput, strict=False)
    except msgspec.DecodeError as exc:
        raise BadInput(f"hook input is not the JSON object the agent sends: {exc}") from None


def _session_file(data_dir: Path, session_id: str, kind: str) -> Path:
    key = hashlib.sha256(session_id.encode()).hexdigest()[:16] if session_id else "unknown"
    return data_dir / SESSIONS / f"{key}.{kind}"


def _touch(path: Path, text: str = "") -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.write_text(text)


def _take(path: Path) -> bool:
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def _prune_sessions(data_dir: Path, now: float) -> None:
    folder = data_dir / SESSIONS
    if not folder.is_dir():
        return
    for path in folder.iterdir():
        if now - path.stat().st_mtime > STALE_SESSION_S:
            path.unlink(missing_ok=True)


def _context(event_name: str, text: str) -> dict[str, object]:
    return {"hookSpecificOutput": {"hookEventName": event_name, "additionalContext": text}}


def handle(event: str, hook: HookInput, data_dir: Path, store: str | None) -> dict[str, object] | None:
    """The answer to one hook call, or None for "nothing to say"."""
    if event == "session-start":
        _prune_sessions(data_dir, time.time())
        compacted = _take(_session_file(data_dir, hook.session_id, "compacted")) or hook.source == "compact"
        return _context("SessionStart", prime(data_dir, store, compacted=compacted).text)
    if event == "bootstrap":
        return {"files": [{"path": "MEMMAN.md", "content": prime(data_dir, store).text}]}
    if event == "user-prompt-submit":
        return _prompt(hook, data_dir, store)
    if event == "pre-tool-use":
        if hook.tool_name in SUBAGENT_TOOLS:
            return _context("PreToolUse", SUBAGENT_NOTE)
        if hook.tool_name == "ExitPlanMode":
            return _context("PreToolUse", PLAN_NOTE)
        return None
    if event == "stop":
        return _stop(hook, data_dir, store)
    if event == "pre-compact":
        _touch(_session_file(data_dir, hook.session_id, "compacted"), hook.trigger or "auto")
        return None
    raise AssertionError(event)


def _prompt(hook: HookInput, data_dir: Path, store: str | None) -> dict[str, object] | None:
    from memman import config

    started = time.perf_counter()
    prompt = hook.prompt.strip()
    notes: list[str] = []
    if _take(_session_file(data_dir, hook.session_id, "compacted")):
        from memman.install.prime import COMPACTED_HINT

        notes.append(COMPACTED_HINT)
    settings = config.settings_for(data_dir, store).recall
    if settings.inject and prompt:
        found = inject(data_dir, store, prompt, settings.inject_limit, settings.inject_budget_ms, started)
        notes.append(found if found else REMINDER)
    elif prompt:
        notes.append(REMINDER)
    return _context("UserPromptSubmit", "\n".join(notes)) if notes else None


def inject(data_dir: Path, store: str | None, prompt: str, limit: int, budget_ms: int, started: float) -> str | None:
    """The top memories for the prompt, if recall answers within the budget
    (measured from `started`); None when it does not, or finds nothing.
    Keyword recall (a few ms, no numpy) answers first; hybrid recall then
    replaces it if it also finishes in time (a cold start loads numpy and the
    embedder, ~100+ ms). Recall runs in a daemon thread, abandoned when late."""
    from memman.render import one_line, short
    from memman.service import Memman

    answers: dict[str, list[str]] = {}

    def lines(result) -> list[str]:  # type: ignore[no-untyped-def]
        return [
            f"- [{h.category}] {one_line(h.content, 300)} (id {short(h.id)}{', pending' if h.status == 'pending' else ''})"
            for h in result.results
        ]

    def work() -> None:
        try:
            with Memman(data_dir, store) as app:
                if not app.registry.exists(app.store):
                    return
                query = prompt[:2000]
                answers["basic"] = lines(app.recall(query, limit=limit, basic=True))
                answers["hybrid"] = lines(app.recall(query, limit=limit))
        except MemmanError as exc:  # a broken store: one line on stderr, never a thread's traceback
            answers["error"] = [str(exc)]

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(max(0.0, budget_ms / 1000 - (time.perf_counter() - started)))
    found = answers.get("hybrid") or answers.get("basic")
    if not found:
        if "error" in answers:
            from memman.exits import warn

            warn(f"recall for the prompt failed: {answers['error'][0]}")
        return None
    return "memman recalled these memories for this prompt (verify before relying on them):\n" + "\n".join(found)


def _stop(hook: HookInput, data_dir: Path, store: str | None) -> dict[str, object] | None:
    """Every `remind_every` stops without a remember in between, ask once.
    Never while a stop hook already continued the turn (no loops)."""
    from memman import config
    from memman.service import Memman

    if hook.stop_hook_active:
        return None
    every = config.settings_for(data_dir, store).recall.remind_every
    if every <= 0:
        return None
    counter = _session_file(data_dir, hook.session_id, "stops")
    with Memman(data_dir, store) as app:
        if not app.registry.exists(app.store):
            return None
        head = app.db.log.conn.execute(
            "SELECT count(*) FROM events WHERE type IN ('memory.remembered', 'memory.replaced')"
        ).fetchone()[0]
    try:
        stops, seen = (int(x) for x in counter.read_text().split())
    except (FileNotFoundError, ValueError):
        stops, seen = 0, head
    stops = 0 if head != seen else stops + 1  # the agent wrote something: the count restarts
    if stops >= every:
        _touch(counter, f"0 {head}")
        return {"decision": "block", "reason": STOP_NOTE}
    _touch(counter, f"{stops} {head}")
    return None

