"""`memman doctor` passes a healthy data dir and fails, with a fix each, on a
tampered log (a dropped append-only trigger, a deleted row), a projection
that disagrees with the log, a wrong file mode, and hooks that point at
another installation."""

from __future__ import annotations

import json
import os
from pathlib import Path

import apsw

from tests.cli.conftest import Cli


def _checks(cli: Cli, *args: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, list[dict]]]:
    run = cli("doctor", "--json", *args, env=env)
    assert run.err == "", run.err
    by_name: dict[str, list[dict]] = {}
    for check in json.loads(run.out)["checks"]:
        by_name.setdefault(check["name"], []).append(check)
    return run.code, by_name


def _store(cli: Cli) -> Path:
    cli.ok("remember", "The cache TTL is five minutes", "--cat", "fact")
    cli.ok("remember", "The deploy window is Tuesday morning", "--cat", "decision")
    cli.ok("scheduler", "drain")
    return cli.data_dir / "stores" / "default"


def test_a_healthy_data_dir_passes(cli: Cli) -> None:
    _store(cli)
    code, checks = _checks(cli)
    assert code == 0
    assert {c["status"] for group in checks.values() for c in group} == {"pass"}
    assert set(checks) >= {"config", "permissions", "log", "projections", "vectors", "backlog", "heartbeat", "scheduler", "hooks"}
    text = cli("doctor")
    assert text.code == 0 and "ok    log" in text.out


def test_a_dropped_trigger_and_a_deleted_row_fail_the_log_check(cli: Cli) -> None:
    store = _store(cli)
    conn = apsw.Connection(str(store / "log.db"))
    conn.execute("DROP TRIGGER events_no_delete")
    conn.close()
    code, checks = _checks(cli)
    assert code == 5  # a damaged log is corruption
    [log] = checks["log"]
    assert log["status"] == "fail" and "events_no_delete is missing" in log["detail"] and "backup" in log["fix"]

    conn = apsw.Connection(str(store / "log.db"))
    conn.execute("DELETE FROM events WHERE seq=1")
    conn.close()
    code, checks = _checks(cli)
    assert code == 5 and "seq is not contiguous" in checks["log"][0]["detail"]


def test_a_projection_that_disagrees_with_the_log_fails(cli: Cli) -> None:
    store = _store(cli)
    conn = apsw.Connection(str(store / "projections.db"))
    conn.execute("UPDATE memories SET content = 'tampered' WHERE rowid = (SELECT min(rowid) FROM memories)")
    conn.close()
    code, checks = _checks(cli)
    assert code == 1
    [projections] = checks["projections"]
    assert projections["status"] == "fail" and projections["fix"] == "memman --store default events replay"
    cli.ok("events", "replay")
    assert _checks(cli)[0] == 0


def test_a_checkpoint_ahead_of_the_log_fails(cli: Cli) -> None:
    store = _store(cli)
    conn = apsw.Connection(str(store / "projections.db"))
    conn.execute("UPDATE checkpoints SET seq = seq + 100 WHERE name = 'queue'")
    conn.close()
    code, checks = _checks(cli)
    # projections ahead of the log: the log may have lost events the projections
    # still hold, so the fix must not be a replay (which would discard them)
    assert code == 5 and "was built from" in checks["log"][0]["detail"]
    assert "replay" not in checks["log"][0]["fix"].replace("do not run 'events replay'", "")


def test_wrong_file_modes_fail_with_a_chmod_fix(cli: Cli) -> None:
    _store(cli)
    cli.ok("config", "set", "recall.inject", "true")
    os.chmod(cli.data_dir / "config.toml", 0o644)
    os.chmod(cli.data_dir, 0o755)
    code, checks = _checks(cli)
    assert code == 1
    fixes = sorted(c["fix"] for c in checks["permissions"])
    assert fixes == [f"chmod 600 {cli.data_dir / 'config.toml'}", f"chmod 700 {cli.data_dir}"]


def test_hooks_that_point_elsewhere_fail(cli: Cli) -> None:
    home = cli.data_dir.parent / "home"
    (home / ".claude").mkdir(parents=True)
    cli.ok("install", "--target", "claude-code", "--no-wizard")
    assert _checks(cli)[1]["hooks"][0]["status"] == "pass"
    link = home / ".claude" / "hooks" / "memman" / "memman-hook.sh"
    link.unlink()
    link.symlink_to("/elsewhere/memman-hook.sh")
    code, checks = _checks(cli)
    assert code == 1 and checks["hooks"][0]["fix"] == "memman install --target claude-code"


AUTO = {"MEMMAN_AUTODRAIN": "1"}  # the default worker (the suite turns it off elsewhere)


def test_a_fresh_backlog_with_the_automatic_worker_passes(cli: Cli) -> None:
    cli.ok("remember", "The boiler was serviced in March", "--at", "2020-01-01T00:00:00Z")
    code, checks = _checks(cli, env=AUTO)
    assert code == 0  # warnings only: no drain has run yet, but one is on its way
    assert checks["backlog"][0]["status"] == "pass"  # queued just now; --at is when it was true, not when it arrived
    assert checks["worker"][0]["status"] == "pass" and "automatic background drain" in checks["worker"][0]["detail"]
    assert checks["vectors"][0]["status"] == "pass"


def test_memories_waiting_past_the_threshold_fail(cli: Cli) -> None:
    cli.ok("config", "set", "scheduler.max_wait_s", "0")  # every pending memory has waited "too long"
    cli.ok("remember", "The boiler was serviced in March")
    code, checks = _checks(cli, env=AUTO)
    assert code == 1
    assert checks["backlog"][0]["status"] == "fail" and "scheduler.max_wait_s=0s" in checks["backlog"][0]["detail"]
    cli.ok("scheduler", "drain")
    assert _checks(cli, env=AUTO)[0] == 0


def test_no_worker_at_all_fails_while_work_waits(cli: Cli) -> None:
    cli.ok("config", "set", "scheduler.auto_drain", "false")
    cli.ok("remember", "The boiler was serviced in March")
    code, checks = _checks(cli)
    assert code == 1
    assert checks["worker"][0]["status"] == "fail" and checks["worker"][0]["fix"].startswith("memman config set")


def test_online_reports_an_unreachable_provider(cli: Cli) -> None:
    cli.ok("config", "set", "llm.provider", "openai")
    cli.ok("config", "set", "llm.base_url", "http://127.0.0.1:9/v1")
    cli.ok("config", "set", "llm.api_key", "-", input="sk-secret-value-123")
    run = cli("doctor", "--json", "--online")
    assert run.code == 1 and "sk-secret" not in run.out
    providers = [c for c in json.loads(run.out)["checks"] if c["name"] == "providers"]
    assert providers[0]["status"] == "fail" and "unreachable" in providers[0]["detail"]
    assert _checks(cli)[1].get("providers") is None  # only with --online
