"""Session capture, the hook's half: PreCompact and SessionEnd hand the new
part of the agent's transcript to the drain as `session.captured` inputs.

The hook only records (Codex gives SessionEnd 3 s): it reads the transcript
from the offset it reached last time (kept per transcript under
<data_dir>/sessions/<sha of the path>.captured), up to the last complete
line, keeps the user and assistant turns' text (no tool calls, tool results,
thinking, images, sidechains, meta or environment messages, and none of
memman's own `<memories>` blocks or system reminders), removes `<private>`
sections per turn, masks likely secrets (memman/privacy.py), splits the
result into excerpts of at most `EXCERPT_CHARS`, and appends them. The drain
extracts the memories (workers/capture.py). An excerpt is recorded once
whatever happens to the offset file (idempotency key on its text).

Transcripts, as the agents write them (one JSON object per line):
- Claude Code: {"type": "user" | "assistant", "message": {"role", "content":
  "text" | [{"type": "text", "text"}, {"type": "tool_use"...},
  {"type": "tool_result"...}, {"type": "thinking"...}]}, "isSidechain",
  "isMeta", ...}; other types (summary, system, file-history-snapshot) skipped.
- Codex rollouts: {"type": "response_item", "payload": {"type": "message",
  "role": "user" | "assistant", "content": [{"type": "input_text" |
  "output_text", "text"}]}}; session_meta, turn_context, event_msg skipped.

Failing open is the hook contract: a missing, unreadable or garbage
transcript is one warning line on stderr, the hook still answers, exit 0.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import msgspec

EXCERPT_CHARS = 24_000  # per session.captured event
TURN_CHARS = 4_000  # a longer turn keeps its head and tail
MAX_READ = 8 * 1024 * 1024  # bytes read per hook call; the rest waits for the next one
MAX_EXCERPTS = 16
_NOISE = re.compile(
    r"(?is)<system-reminder>.*?</system-reminder>|<memories\b.*?</memories>|<command-[a-z]+>.*?</command-[a-z]+>"
    r"|<local-command-stdout>.*?</local-command-stdout>"
)
_ENVIRONMENT = ("<environment_context>", "<user_instructions>", "<permissions instructions>", "# AGENTS.md")


class Captured(msgspec.Struct, frozen=True, kw_only=True):
    status: str  # "off", "no transcript", "nothing new", "recorded", "skipped"
    excerpts: int = 0
    start: int = 0
    end: int = 0


def _offset_file(data_dir: Path, transcript: str) -> Path:
    return data_dir / "sessions" / f"{hashlib.sha256(transcript.encode()).hexdigest()[:16]}.captured"


def _read_offset(path: Path) -> int:
    try:
        return max(0, int(path.read_text().split()[0]))
    except (FileNotFoundError, ValueError, IndexError):
        return 0


def _text_of(content: object) -> str:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    parts = [b.get("text", "") for b in content if isinstance(b, dict) and b.get("type") in ("text", "input_text", "output_text")]
    return "\n".join(p for p in parts if isinstance(p, str))


def turn(entry: object) -> tuple[str, str] | None:
    """(role, text) of one transcript line, Claude Code's or Codex's, or None."""
    if not isinstance(entry, dict):
        return None
    kind = entry.get("type")
    if kind in ("user", "assistant") and isinstance(entry.get("message"), dict):
        if entry.get("isSidechain") or entry.get("isMeta") or entry.get("isCompactSummary"):
            return None
        message = entry["message"]
        role, text = message.get("role", kind), _text_of(message.get("content"))
    elif kind == "response_item" and isinstance(entry.get("payload"), dict):
        payload = entry["payload"]
        if payload.get("type") != "message":
            return None
        role, text = payload.get("role"), _text_of(payload.get("content"))
    else:
        return None
    if role not in ("user", "assistant"):
        return None
    text = _NOISE.sub("", text).strip()
    if not text or text.startswith(_ENVIRONMENT):
        return None
    return role, text


def _cleaned(role: str, text: str) -> str | None:
    from memman.privacy import detect, redact, strip_private

    text = strip_private(text).strip()
    if not text:
        return None
    text = redact(text, detect(text))
    if len(text) > TURN_CHARS:
        text = f"{text[: TURN_CHARS // 2]} [...] {text[-TURN_CHARS // 2 :]}"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return "\n".join([f"{role}: {lines[0]}", *(f"  {line}" for line in lines[1:])])


def excerpts(lines: list[bytes]) -> tuple[list[str], int]:
    """The cleaned excerpts of transcript lines, and how many lines were not JSON."""
    bad, out, current = 0, [], ""
    for raw in lines:
        if not raw.strip():
            continue
        try:
            entry = msgspec.json.decode(raw)
        except msgspec.DecodeError:
            bad += 1
            continue
        found = turn(entry)
        said = _cleaned(*found) if found else None
        if said is None:
            continue
        if current and len(current) + len(said) + 1 > EXCERPT_CHARS:
            out.append(current)
            current = ""
        current = f"{current}\n{said}" if current else said[:EXCERPT_CHARS]
    if current:
        out.append(current)
    return out[-MAX_EXCERPTS:], bad


def capture(data_dir: Path, store: str | None, hook: object, *, agent: str, trigger: str) -> Captured:
    """Record the transcript's new part. Raises OSError (unreadable transcript),
    ValueError (not a JSONL transcript) or MemmanError (store); the hook turns
    each into one warning line."""
    from memman import config
    from memman.scope.service import Scoped

    if not config.capture_enabled(config.settings_for(data_dir, store)):
        return Captured(status="off")
    transcript = getattr(hook, "transcript_path", "")
    if not transcript:
        return Captured(status="no transcript")
    mark = _offset_file(data_dir, transcript)
    start = _read_offset(mark)
    with open(transcript, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size < start:  # rewritten from scratch: read it again (keys keep excerpts single)
            start = 0
        f.seek(start)
        data = f.read(min(size - start, MAX_READ))
    end = start + data.rfind(b"\n") + 1
    lines = data[: end - start].split(b"\n")
    if end == start:
        return Captured(status="nothing new", start=start, end=end)
    found, bad = excerpts(lines)
    real = sum(1 for line in lines if line.strip())
    if bad and bad == real:
        _advance(mark, end)  # garbage stays garbage: do not warn about it again
        raise ValueError(f"{transcript} is not a JSONL transcript ({bad} unreadable lines)")
    recorded = 0
    if found:
        with Scoped.at(data_dir, store, getattr(hook, "cwd", "") or None) as scoped:
            recorded = scoped.capture(found, agent=agent, session_id=getattr(hook, "session_id", ""),
                                      transcript=transcript, start=start, end=end, trigger=trigger)
    _advance(mark, end)
    return Captured(status="recorded" if found else "nothing new", excerpts=recorded, start=start, end=end)


def _advance(mark: Path, end: int) -> None:
    mark.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = mark.with_suffix(".tmp")
    tmp.write_text(f"{end}\n")
    tmp.replace(mark)
