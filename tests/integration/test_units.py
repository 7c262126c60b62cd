"""The OS timer: unit files rendered as text, systemctl / launchctl calls
observed through the Control interface (and through a fake systemctl on PATH
for the real CLI), install idempotent and uninstall leaving HOME as before."""

from __future__ import annotations

import os
import plistlib
import stat
from pathlib import Path

from memman.scheduler import ops, units
from tests.cli.conftest import Cli, assert_error
from tests.integration.conftest import snapshot


def _recording() -> units.Control:
    return units.Control(runner=lambda argv: (0, ""))


def test_systemd_units_run_one_pass_per_interval(tmp_path: Path) -> None:
    service, timer = units.render_systemd(Path("/d ata"), 120, "/venv/bin/python", tmp_path)
    assert service.path == str(tmp_path / ".config/systemd/user/memman-drain.service")
    assert 'ExecStart=/venv/bin/python -P -m memman --data-dir "/d ata" scheduler serve --once\n' in service.text
    assert "Type=oneshot\n" in service.text
    assert "OnUnitInactiveSec=120\n" in timer.text and "Unit=memman-drain.service\n" in timer.text
    assert "WantedBy=timers.target\n" in timer.text


def test_launchd_agent_is_a_valid_plist(tmp_path: Path) -> None:
    [plist] = units.render_launchd(Path("/data & co"), 90, "/venv/bin/python", tmp_path)
    assert plist.path == str(tmp_path / "Library/LaunchAgents/dev.memman.drain.plist")
    parsed = plistlib.loads(plist.text.encode())
    assert parsed["Label"] == "dev.memman.drain"
    assert parsed["ProgramArguments"] == ["/venv/bin/python", "-P", "-m", "memman", "--data-dir", "/data & co", "scheduler", "serve", "--once"]
    assert parsed["StartInterval"] == 90


def test_install_and_uninstall_call_systemctl_and_restore_home(data_dir: Path, tmp_path: Path) -> None:
    home = Path(os.environ["HOME"])
    home.mkdir(exist_ok=True)
    before = snapshot(home)
    control = _recording()
    result = ops.install_units(data_dir, platform="systemd", control=control)
    assert result.calls == [
        ["systemctl", "--user", "daemon-reload"],
        ["systemctl", "--user", "enable", "--now", "memman-drain.timer"],
        ["systemctl", "--user", "restart", "memman-drain.timer"],
    ]
    ops.install_units(data_dir, platform="systemd", control=_recording())  # idempotent
    reload = _recording()
    ops.set_interval(data_dir, 60, control=reload)
    assert "OnUnitInactiveSec=60\n" in Path(result.files[1]).read_text()
    assert ["systemctl", "--user", "daemon-reload"] in reload.calls
    control = _recording()
    ops.uninstall_units(data_dir, control=control)
    assert control.calls[0] == ["systemctl", "--user", "disable", "--now", "memman-drain.timer"]
    assert snapshot(home) == before


def test_launchd_install_loads_and_uninstall_unloads(data_dir: Path) -> None:
    home = Path(os.environ["HOME"])
    control = _recording()
    result = ops.install_units(data_dir, platform="launchd", control=control)
    assert control.calls[-1] == ["launchctl", "load", "-w", result.files[0]]
    control = _recording()
    assert ops.uninstall_units(data_dir, control=control).action == "uninstalled"
    assert control.calls == [["launchctl", "unload", "-w", result.files[0]]]
    assert not (home / "Library").exists()


def test_the_cli_calls_the_real_systemctl_interface(cli: Cli, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls.log"
    fake = bin_dir / "systemctl"
    fake.write_text(f'#!/bin/sh\necho "$@" >> {calls}\n')
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}"}
    out = cli.json("scheduler", "install", "--platform", "systemd", env=env)
    assert out["action"] == "installed"
    cli.ok("scheduler", "uninstall", env=env)
    assert calls.read_text().splitlines() == [
        "--user daemon-reload",
        "--user enable --now memman-drain.timer",
        "--user restart memman-drain.timer",
        "--user disable --now memman-drain.timer",
        "--user daemon-reload",
    ]


def test_a_failing_systemctl_is_one_line(cli: Cli, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "systemctl"
    fake.write_text("#!/bin/sh\necho 'Failed to connect to bus' >&2\nexit 1\n")
    fake.chmod(0o755)
    assert_error(
        cli("scheduler", "install", "--platform", "systemd", env={"PATH": f"{bin_dir}:{os.environ['PATH']}"}),
        1,
        contains=["systemctl --user daemon-reload' failed (1): Failed to connect to bus"],
    )


def test_bad_scheduler_input_changes_nothing(cli: Cli) -> None:
    assert_error(cli("scheduler", "interval", "--seconds", "3"), 2, contains=["between 10 and 604800"])
    assert_error(cli("scheduler", "install", "--platform", "windows"), 2, contains=["--platform"])
    assert_error(cli("scheduler", "serve", "--interval", "0"), 2, contains=["--interval"])
    assert not (cli.data_dir / "config.toml").exists()
    assert cli.json("scheduler", "status")["interval_s"] == 300
