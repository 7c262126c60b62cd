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

import time
from pathlib import Path

import msgspec


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
    cwd: str = ""  # the agent's working directory: chooses the project store (memman/scope/)
    transcript_path: str = ""
    source: str = ""  # SessionStart
    prompt: str = ""  # UserPromptSubmit
    tool_name: str = ""  # PreToolUse
    stop_hook_active: bool = False  # Stop
    trigger: str = ""  # PreCompact
    type: str = ""  # OpenClaw event type
    action: str = ""  # OpenClaw event action


EVENTS = ("session-start", "user-prompt-submit", "pre-tool-use", "stop", "pre-compact", "session-end", "bootstrap")


def decode(raw: bytes) -> HookInput:
    from events.errors import BadInput

    if not raw.strip():
        return HookInput()
    try:
        return msgspec.json.decode(raw, type=HookInput, strict=False)
    except msgspec.DecodeError as exc:
        raise BadInput(f"hook input is not the JSON object the agent sends: {exc}") from None


def _session_file(data_dir: Path, session_id: str, kind: str) -> Path:
    from events.digests import sha256_hex

    key = sha256_hex(session_id.encode())[:16] if session_id else "unknown"
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


def handle(
    event: str, hook: HookInput, data_dir: Path, store: str | None, agent: str = "claude-code"
) -> dict[str, object] | None:
    """The answer to one hook call, or None for "nothing to say". `store` is
    an explicit --store (or None: the hook's `cwd` chooses, memman/scope/).
    Claude Code and Codex send the same JSON shape and read the same answers."""
    cwd = hook.cwd or None
    if event in ("pre-compact", "session-end"):
        capture_session(event, hook, data_dir, store, agent)
    if event in ("stop", "pre-compact", "session-end", "session-start"):
        drain_if_waiting(data_dir, store, cwd)
    if event == "session-end":
        return None
    if event == "session-start":
        _prune_sessions(data_dir, time.time())
        compacted = _take(_session_file(data_dir, hook.session_id, "compacted")) or hook.source == "compact"
        return _context("SessionStart", _primed(data_dir, store, compacted, cwd))
    if event == "bootstrap":
        from memman.install.prime import prime  # not imported for the per-prompt and per-tool hooks

        return {"files": [{"path": "MEMMAN.md", "content": prime(data_dir, store, cwd=cwd).text}]}
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


def _primed(data_dir: Path, store: str | None, compacted: bool, cwd: str | None) -> str:
    """The SessionStart context; never an error instead of it (Codex requires a valid
    hookSpecificOutput on every SessionStart, and a session must start regardless)."""
    try:
        from memman.install.prime import prime

        return prime(data_dir, store, compacted=compacted, cwd=cwd).text
    except Exception as exc:  # noqa: BLE001 - the one seam where any failure must still give the agent its answer
        import os

        if os.environ.get("MEMMAN_DEBUG") == "1":
            raise
        return f"memman is unavailable this session ({type(exc).__name__}: {exc}); run 'memman doctor'."


def capture_session(event: str, hook: HookInput, data_dir: Path, store: str | None, agent: str) -> None:
    """Session capture (memman/integration/capture.py): record the transcript's
    new part for the drain. Fails open: whatever goes wrong is one warning
    line on stderr and the hook answers as usual."""
    from events.errors import MemmanError
    from memman.exits import warn
    from memman.integration.capture import capture

    try:
        capture(data_dir, store, hook, agent=agent, trigger=event)
    except (OSError, ValueError, MemmanError) as exc:
        reason = f"{exc.strerror}: {exc.filename}" if isinstance(exc, OSError) and exc.strerror else str(exc)
        warn(f"session capture skipped: {reason}")


def drain_if_waiting(data_dir: Path, store: str | None, cwd: str | None = None) -> str | None:
    """Start the automatic drain when a store of the scope has work waiting
    (the worker that always exists: memman/scheduler/autodrain.py)."""
    from events.errors import MemmanError
    from memman.scheduler.autodrain import kick
    from memman.scope.service import Scoped

    try:
        with Scoped.at(data_dir, store, cwd) as scoped:
            waiting = any(
                scoped.app(name).fresh().main.conn.execute("SELECT 1 FROM work WHERE state='pending' LIMIT 1").fetchone()
                for name in scoped.scope.reads
                if scoped.app(name).registry.exists(name)
            )
    except (MemmanError, OSError):
        return None  # a broken or read-only store must not break the session; doctor reports it
    return kick(data_dir) if waiting else None


def _prompt(hook: HookInput, data_dir: Path, store: str | None) -> dict[str, object] | None:
    """Relevant memories, fenced as data (memman/integration/inject.py); nothing
    at all when nothing is relevant; the plain reminder when recall is late."""
    from memman import config
    from memman.integration.inject import Injected, TimedOut, inject

    started = time.perf_counter()
    prompt = hook.prompt.strip()
    notes: list[str] = []
    if _take(_session_file(data_dir, hook.session_id, "compacted")):
        from memman.install.prime import COMPACTED_HINT

        notes.append(COMPACTED_HINT)
    settings = config.settings_for(data_dir, store).recall
    if prompt and settings.inject:
        found = inject(data_dir, store, hook.cwd or None, prompt, limit=settings.inject_limit,
                       budget_ms=settings.inject_budget_ms, started=started, max_chars=settings.inject_max_chars)
        if isinstance(found, Injected):
            notes.append(found.block)
        elif isinstance(found, TimedOut):
            notes.append(REMINDER)
    elif prompt:
        notes.append(REMINDER)
    return _context("UserPromptSubmit", "\n".join(notes)) if notes else None


def _stop(hook: HookInput, data_dir: Path, store: str | None) -> dict[str, object] | None:
    """Every `remind_every` stops without a remember in between, ask once.
    Never while a stop hook already continued the turn (no loops)."""
    from memman import config
    from memman.scope.service import Scoped

    if hook.stop_hook_active:
        return None
    every = config.settings_for(data_dir, store).recall.remind_every
    if every <= 0:
        return None
    counter = _session_file(data_dir, hook.session_id, "stops")
    with Scoped.at(data_dir, store, hook.cwd or None) as scoped:
        names = [n for n in scoped.scope.reads if scoped.app(n).registry.exists(n)]
        if not names:
            return None
        head = sum(scoped.app(n).db.log.count(("memory.remembered", "memory.replaced")) for n in names)
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

