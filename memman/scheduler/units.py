"""The OS timer that runs one drain pass every `scheduler.interval_s` seconds:
a systemd user timer + oneshot service on Linux, a launchd agent on macOS.

Each tick runs `python -m memman scheduler serve --once`, which skips the pass
(exit 0) while the scheduler is stopped, so stop/start never touch the units.
Unit files are rendered as text here (tests read them); every systemctl /
launchctl call goes through a `Control`, which tests replace to observe.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from xml.sax.saxutils import escape

import msgspec

from events.errors import BadInput, MemmanError

UNIT = "memman-drain"
LABEL = "dev.memman.drain"


class UnitFile(msgspec.Struct, frozen=True, kw_only=True):
    path: str
    text: str


class ControlFailed(MemmanError):
    pass


Runner = Callable[[Sequence[str]], tuple[int, str]]


def _run(argv: Sequence[str]) -> tuple[int, str]:
    try:
        proc = subprocess.run(list(argv), capture_output=True, text=True, timeout=30)
    except FileNotFoundError:
        return 127, f"{argv[0]} not found"
    return proc.returncode, (proc.stderr or proc.stdout).strip()


class Control:
    """systemctl / launchctl, one call at a time; `calls` records them."""

    def __init__(self, runner: Runner = _run) -> None:
        self.runner = runner
        self.calls: list[list[str]] = []

    def __call__(self, *argv: str, check: bool = True) -> int:
        self.calls.append(list(argv))
        code, message = self.runner(argv)
        if code != 0 and check:
            raise ControlFailed(f"'{' '.join(argv)}' failed ({code}): {message.splitlines()[0] if message else 'no output'}")
        return code


def platform_kind(platform: str | None = None) -> str:
    chosen = platform or ("launchd" if sys.platform == "darwin" else "systemd")
    if chosen not in ("systemd", "launchd"):
        raise BadInput(f"unknown scheduler platform {chosen!r}; choose systemd or launchd")
    return chosen


def _command(data_dir: Path, python: str) -> list[str]:
    return [python, "-P", "-m", "memman", "--data-dir", str(data_dir), "scheduler", "serve", "--once"]


def _systemd_quote(arg: str) -> str:
    if arg and all(c.isalnum() or c in "/._-=:+@" for c in arg):
        return arg
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'


def systemd_dir(home: Path) -> Path:
    base = os.environ.get("XDG_CONFIG_HOME")
    return (Path(base) if base else home / ".config") / "systemd" / "user"


def render_systemd(data_dir: Path, interval_s: int, python: str, home: Path) -> list[UnitFile]:
    folder = systemd_dir(home)
    exec_start = " ".join(_systemd_quote(a) for a in _command(data_dir, python))
    service = (
        "# Installed by 'memman scheduler install'; removed by 'memman scheduler uninstall'.\n"
        "[Unit]\n"
        "Description=memman: one drain pass (extract, reconcile, embed, link)\n"
        "\n"
        "[Service]\n"
        "Type=oneshot\n"
        f"ExecStart={exec_start}\n"
        "Nice=10\n"
        "Environment=OPENBLAS_NUM_THREADS=1\n"
        "TimeoutStartSec=1h\n"
    )
    timer = (
        "# Installed by 'memman scheduler install'; removed by 'memman scheduler uninstall'.\n"
        "[Unit]\n"
        "Description=memman: drain every "
        f"{interval_s}s\n"
        "\n"
        "[Timer]\n"
        "OnBootSec=60\n"
        f"OnUnitInactiveSec={interval_s}\n"
        "AccuracySec=5\n"
        f"Unit={UNIT}.service\n"
        "\n"
        "[Install]\n"
        "WantedBy=timers.target\n"
    )
    return [
        UnitFile(path=str(folder / f"{UNIT}.service"), text=service),
        UnitFile(path=str(folder / f"{UNIT}.timer"), text=timer),
    ]


def launchd_path(home: Path) -> Path:
    return home / "Library" / "LaunchAgents" / f"{LABEL}.plist"


def render_launchd(data_dir: Path, interval_s: int, python: str, home: Path) -> list[UnitFile]:
    args = "\n".join(f"    <string>{escape(a)}</string>" for a in _command(data_dir, python))
    logs = escape(str(data_dir / "scheduler" / "launchd.log"))
    text = f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<!-- Installed by 'memman scheduler install'; removed by 'memman scheduler uninstall'. -->
<plist version="1.0">
<dict>
  <key>Label</key>
  <string>{LABEL}</string>
  <key>ProgramArguments</key>
  <array>
{args}
  </array>
  <key>StartInterval</key>
  <integer>{int(interval_s)}</integer>
  <key>RunAtLoad</key>
  <true/>
  <key>ProcessType</key>
  <string>Background</string>
  <key>LowPriorityIO</key>
  <true/>
  <key>EnvironmentVariables</key>
  <dict>
    <key>OPENBLAS_NUM_THREADS</key>
    <string>1</string>
  </dict>
  <key>StandardOutPath</key>
  <string>{logs}</string>
  <key>StandardErrorPath</key>
  <string>{logs}</string>
</dict>
</plist>
"""
    return [UnitFile(path=str(launchd_path(home)), text=text)]


def render(kind: str, data_dir: Path, interval_s: int, python: str, home: Path) -> list[UnitFile]:
    return (render_launchd if kind == "launchd" else render_systemd)(data_dir, interval_s, python, home)


def installed(kind: str, home: Path) -> list[Path]:
    if kind == "launchd":
        paths = [launchd_path(home)]
    else:
        folder = systemd_dir(home)
        paths = [folder / f"{UNIT}.service", folder / f"{UNIT}.timer"]
    return [p for p in paths if p.exists()]


def _make_parents(path: Path) -> list[str]:
    """mkdir -p, returning the directories it created (deepest last)."""
    missing = [p for p in reversed(path.parents) if not p.exists()]
    for p in missing:
        p.mkdir()
    return [str(p) for p in missing]


class SchedulerUnavailable(ControlFailed):
    """The platform's scheduler cannot be reached (no systemd user bus in a
    container, no launchd): nothing was installed."""


def install(kind: str, units: list[UnitFile], control: Control) -> list[str]:
    """Write the unit files and load them (idempotent: a reinstall reloads).
    Returns the directories it had to create, so uninstall can remove them.
    If loading fails, every file goes back to what it was (absent, or a
    previous install's text) and the directories just created are removed,
    so a failed install leaves nothing behind."""
    created: list[str] = []
    previous = {u.path: Path(u.path).read_text() if Path(u.path).exists() else None for u in units}
    try:
        for unit in units:
            path = Path(unit.path)
            created += _make_parents(path)
            path.write_text(unit.text)
        _load(kind, units, control)
    except ControlFailed as exc:
        for path, text in previous.items():
            if text is not None:
                Path(path).write_text(text)
            else:
                Path(path).unlink(missing_ok=True)
        for folder in reversed(created):
            try:
                Path(folder).rmdir()
            except OSError:
                pass
        raise SchedulerUnavailable(
            f"{exc}; nothing was installed. Without an OS timer memman drains in the background by itself"
            " after writes and at session end (scheduler.auto_drain); in a container run 'memman scheduler serve'"
        ) from None
    return created


def _load(kind: str, units: list[UnitFile], control: Control) -> None:
    if kind == "launchd":
        plist = units[0].path
        control("launchctl", "unload", "-w", plist, check=False)
        control("launchctl", "load", "-w", plist)
    else:
        control("systemctl", "--user", "daemon-reload")
        control("systemctl", "--user", "enable", "--now", f"{UNIT}.timer")
        control("systemctl", "--user", "restart", f"{UNIT}.timer")


def uninstall(kind: str, home: Path, control: Control, created_dirs: Sequence[str] = ()) -> list[str]:
    """Unload and delete the units, then the directories install created (if empty)."""
    present = installed(kind, home)
    if not present:
        return []
    if kind == "launchd":
        control("launchctl", "unload", "-w", str(present[0]), check=False)
    else:
        control("systemctl", "--user", "disable", "--now", f"{UNIT}.timer", check=False)
    for path in present:
        path.unlink()
    if kind == "systemd":
        control("systemctl", "--user", "daemon-reload", check=False)
    for folder in reversed(list(created_dirs)):
        try:
            Path(folder).rmdir()
        except OSError:
            pass  # not empty: something else lives there now; leave it
    return [str(p) for p in present]
