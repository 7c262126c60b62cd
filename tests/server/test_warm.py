"""The warm server answers recall and hooks exactly as a cold process would,
follows the log, keeps its socket owner-only, and never lets its own failure
reach the user: a dead, stale, hung, foreign or lying server means the command
runs in-process with the same output."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from memman.server import wire
from tests.server.conftest import Warm, pids_serving, recall_json


def test_recall_through_the_server_equals_a_cold_recall(warm: Warm) -> None:
    warm.start()
    cold = recall_json(warm, "why sqlite", MEMMAN_SERVER="off")
    hot = recall_json(warm, "why sqlite")
    assert hot == cold
    assert warm.status()["served"] == 1  # the warm one was answered by the server


def test_a_remember_is_visible_to_the_next_warm_recall(warm: Warm) -> None:
    warm.start()
    # before: at most weak matches by meaning (another infrastructure memory), never the new text
    assert all("Kubernetes" not in r["content"] for r in recall_json(warm, "kubernetes cluster")["results"])
    # by another process (a cold one): the server's kept handles must still see it
    assert warm.run("remember", "The staging Kubernetes cluster lives in eu-west-1", MEMMAN_SERVER="off").returncode == 0
    hot = recall_json(warm, "kubernetes cluster")
    assert hot["results"][0]["content"] == "The staging Kubernetes cluster lives in eu-west-1"
    assert hot["results"][0]["status"] == "pending"
    assert warm.status()["served"] == 2


def test_hook_answers_are_the_same_warm_and_cold(warm: Warm) -> None:
    # a generous budget: a cold recall late under load would fail open to the reminder, a timing difference, not a bug
    assert warm.run("config", "set", "recall.inject_budget_ms", "30000", MEMMAN_SERVER="off").returncode == 0
    warm.start()
    payload = json.dumps({"hook_event_name": "UserPromptSubmit", "session_id": "s1", "prompt": "why sqlite"}).encode()
    cold = warm.run("hook", "user-prompt-submit", input=payload, MEMMAN_SERVER="off")
    hot = warm.run("hook", "user-prompt-submit", input=payload)
    assert (hot.returncode, hot.stdout, hot.stderr) == (cold.returncode, cold.stdout, cold.stderr)
    assert warm.status()["served"] == 1


def test_errors_come_back_as_the_cold_process_prints_them(warm: Warm) -> None:
    warm.start()
    cold = warm.run("recall", "x", "--store", "nope", MEMMAN_SERVER="off")
    hot = warm.run("recall", "x", "--store", "nope")
    assert hot.returncode == cold.returncode != 0
    assert hot.stderr == cold.stderr and hot.stderr.count(b"\n") == 1


def test_the_first_recall_starts_a_server_for_the_next(warm: Warm) -> None:
    assert not warm.status()["running"]
    assert recall_json(warm, "buildkite")["results"]
    state = warm.wait_until(lambda: (s := warm.status())["running"] and s, "the spawned server")
    assert state["served"] == 0


def test_socket_and_run_dir_are_owner_only(warm: Warm) -> None:
    warm.start()
    assert os.stat(warm.sock).st_mode & 0o777 == 0o600
    assert os.stat(os.path.dirname(warm.sock)).st_mode & 0o777 == 0o700


def test_another_user_cannot_reach_the_socket(warm: Warm) -> None:
    if os.getuid() != 0:
        pytest.skip("needs root to act as another user")
    warm.start()
    probe = (
        "import os, socket, sys\n"
        "os.setgid(65534); os.setuid(65534)\n"
        "s = socket.socket(socket.AF_UNIX)\n"
        "try:\n    s.connect(sys.argv[1])\nexcept PermissionError:\n    sys.exit(0)\nsys.exit(1)\n"
    )
    assert subprocess.run([sys.executable, "-c", probe, warm.sock], timeout=30).returncode == 0


def test_a_killed_server_leaves_a_stale_socket_that_costs_nothing(warm: Warm) -> None:
    pid = warm.start()["pid"]
    os.kill(pid, signal.SIGKILL)
    warm.wait_until(lambda: not warm.status()["running"], "the killed server to be gone")
    assert os.path.exists(warm.sock)  # stale: nobody listens
    cold = recall_json(warm, "buildkite", MEMMAN_SERVER="off")
    assert recall_json(warm, "buildkite") == cold
    warm.wait_until(lambda: warm.status()["running"], "a fresh server on the stale path")


def _fake_server(path: str, behave) -> threading.Thread:  # type: ignore[no-untyped-def]
    if os.path.exists(path):
        os.unlink(path)
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    listener.listen(4)

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            behave(conn)
        listener.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize(
    "behave",
    [
        pytest.param(lambda c: c.recv(1 << 20), id="dies-mid-request"),
        pytest.param(lambda c: (c.recv(1 << 20), c.sendall(b"\x00\x00\x00\x05hello")), id="garbage-reply"),
        pytest.param(
            lambda c: (c.recv(1 << 20), wire.send(c, wire.encode({"status": "mismatch"}))), id="wrong-version"
        ),
        pytest.param(
            lambda c: (c.recv(1 << 20), wire.send(c, wire.encode({"status": "ok", "code": 0}))),
            id="reply-cut-short",
        ),
        pytest.param(lambda c: (c.recv(1 << 20), time.sleep(3)), id="hangs"),
    ],
)
def test_a_broken_server_falls_back_with_the_same_output(warm: Warm, behave) -> None:  # type: ignore[no-untyped-def]
    assert wire.ensure_run_dir(warm.env)
    cold = recall_json(warm, "why sqlite", MEMMAN_SERVER="off")
    thread = _fake_server(warm.sock, behave)
    assert recall_json(warm, "why sqlite", MEMMAN_SERVER_TIMEOUT_S="1") == cold
    thread.join(timeout=10)


def test_a_run_dir_others_can_enter_is_never_used(warm: Warm) -> None:
    run_dir = wire.run_dir(warm.env)
    os.makedirs(run_dir, mode=0o755, exist_ok=True)
    os.chmod(run_dir, 0o755)
    assert recall_json(warm, "buildkite")["results"]
    time.sleep(0.5)
    assert not os.path.exists(warm.sock)  # no server was started there


def test_an_idle_server_exits_by_itself(warm: Warm) -> None:
    warm.run("server", "start", MEMMAN_SERVER_IDLE_S="1")
    warm.wait_until(lambda: not warm.status()["running"], "the idle server to exit")
    assert not os.path.exists(warm.sock)


def test_server_commands_report_and_stop(warm: Warm) -> None:
    assert warm.run("server", "stop").stdout == b"not running\n"
    pid = warm.start()["pid"]
    assert warm.run("server", "stop").stdout == f"stopped pid {pid}\n".encode()
    warm.wait_until(lambda: not warm.status()["running"], "the stopped server to exit")


def test_the_client_imports_only_the_standard_library() -> None:
    code = (
        "import sys; before = set(sys.modules)\n"
        "import memman.server.client\n"
        "new = {m.split('.')[0] for m in set(sys.modules) - before}\n"
        "print(sorted(new - {'memman'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert not set(eval(out)) & {"msgspec", "numpy", "apsw", "click", "httpx", "usearch", "events", "projections", "workers"}


def test_server_start_in_a_run_dir_others_can_enter_is_one_clear_error(warm: Warm) -> None:
    run_dir = wire.run_dir(warm.env)
    os.makedirs(run_dir, mode=0o755, exist_ok=True)
    os.chmod(run_dir, 0o755)
    proc = warm.run("server", "start")
    assert proc.returncode == 1 and proc.stdout == b""
    assert proc.stderr.decode() == (
        f"memman: error: cannot start the warm server: {run_dir} must be a directory only you can enter; "
        f"fix with 'chmod 700 {run_dir}' (recall works without the server)\n"
    )


@pytest.mark.parametrize("command", ["status", "start", "stop"])
def test_server_commands_refuse_unknown_options(warm: Warm, command: str) -> None:
    proc = warm.run("server", command, "--bogus")
    assert proc.returncode == 2
    assert proc.stderr.decode() == f"memman: error: No such option '--bogus'. (see 'memman server {command} --help')\n"


def test_the_client_loads_neither_socket_nor_json_nor_re(warm: Warm) -> None:
    """What a forwarded call imports beyond the interpreter's start: _socket and
    marshal are built in; socket (enum, selectors), json and re cost ~1-3 ms each."""
    warm.start()
    probe = (
        "import sys\nfrom memman.server.client import forward\n"
        "for argv in (['recall', 'buildkite'], ['remember', 'The deploy window is Tuesday']):\n"
        "    assert forward(argv).reply is not None, argv\n"
        "print(sorted(m for m in ('socket', 'json', 're', 'typing', 'msgspec', 'apsw') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-P", "-c", probe], capture_output=True, text=True, env=warm.env, check=True)
    assert out.stdout == "[]\n"
    assert warm.status()["served"] == 2


def test_the_installed_console_script_forwards_without_importing_re(warm: Warm) -> None:
    """`memman` as installed (the console script next to the interpreter): the
    wrapper of the pip the lock pins has no `import re`, which older ones added
    to every call (~5 ms, half of a bare interpreter start)."""
    script = Path(sys.executable).with_name("memman")
    assert script.is_file(), f"no console script at {script}: build the venv with `make venv`"
    warm.start()
    out = subprocess.run([str(script), "recall", "buildkite"], capture_output=True, text=True,
                         env={**warm.env, "PYTHONPROFILEIMPORTTIME": "1"}, check=True)  # fmt: skip
    imported = {line.rsplit("|", 1)[-1].strip() for line in out.stderr.splitlines() if line.startswith("import time:")}
    assert "memman.server.client" in imported and "re" not in imported, sorted(imported)
    assert warm.status()["served"] == 1


def test_on_a_postgres_store_the_server_answers_as_cold_and_follows_other_machines(
    data_dir: Path, pg_dsn: str, tmp_path: Path
) -> None:
    """The server keeps psycopg imported; each request still opens the shared
    log and catches the local replica up, so another machine's remember is in
    the next warm recall."""
    run_base = tempfile.mkdtemp(prefix="mm")
    w = Warm(data_dir, run_base)
    other = Warm(tmp_path / "laptop2", run_base)
    try:
        for machine in (w, other):
            assert machine.run("store", "create", "default", "--backend", pg_dsn, MEMMAN_SERVER="off").returncode == 0
        w.run("remember", "Chose SQLite for the store: zero dependencies, embeddable", MEMMAN_SERVER="off")
        assert w.run("scheduler", "drain", MEMMAN_SERVER="off").returncode == 0
        w.start()
        assert recall_json(w, "why sqlite") == recall_json(w, "why sqlite", MEMMAN_SERVER="off")
        assert other.run("remember", "The staging Kubernetes cluster lives in eu-west-1", MEMMAN_SERVER="off").returncode == 0
        hot = recall_json(w, "kubernetes cluster")
        assert hot["results"][0]["content"] == "The staging Kubernetes cluster lives in eu-west-1"
        assert w.status()["served"] == 2
    finally:
        w.run("server", "stop")
        for pid in pids_serving(data_dir):
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(run_base, ignore_errors=True)


def test_purge_while_the_warm_server_has_served_the_store_leaves_no_trace(tmp_path: Path) -> None:
    """A real server process has recalled the text (warm, so any in-process
    state would hold it); a purge from another process must leave no file
    under the data dir holding it, the server's run dir included (placed
    under the data dir here), and the server must not serve it again."""
    data_dir = Path(tempfile.mkdtemp(prefix="mm"))  # short: the socket lives under it
    run_base = data_dir / "run"
    run_base.mkdir(mode=0o700)
    w = Warm(data_dir, str(run_base))
    secret = "Kestrel"
    try:
        doomed = json.loads(w.run("remember", f"Project {secret} ships the billing rewrite in March", "--json").stdout)["id"]
        w.run("remember", "The CI pipeline runs on Buildkite")
        assert w.run("scheduler", "drain").returncode == 0
        w.start()
        for _ in range(2):  # the second one certainly warm
            hits = recall_json(w, "kestrel billing rewrite")["results"]
            assert [h["id"] for h in hits][:1] == [doomed]
        hook = json.dumps({"hook_event_name": "UserPromptSubmit", "session_id": "s1", "prompt": "kestrel billing"}).encode()
        assert w.run("hook", "user-prompt-submit", input=hook).returncode == 0
        served = w.status()["served"]
        assert isinstance(served, int) and served >= 3

        purged = w.run("purge", doomed, "--yes", "--json")
        assert purged.returncode == 0, purged.stderr
        assert json.loads(purged.stdout)["remaining"] == []
        assert w.status()["running"]  # the server lived through it
        after = recall_json(w, "kestrel billing rewrite")
        assert doomed not in [h["id"] for h in after["results"]]
        assert secret.lower() not in json.dumps(after["results"]).lower()  # (the query itself is echoed in meta)
        assert w.run("hook", "user-prompt-submit", input=hook).stdout.decode().lower().count(secret.lower()) == 0
        assert w.status()["served"] > served  # those answers came from the warm server
        assert w.run("server", "stop").returncode == 0
        holding = [str(p) for p in data_dir.rglob("*") if p.is_file()
                   and any(n in p.read_bytes() for n in (secret.encode(), secret.lower().encode()))]
        assert holding == []
        assert list(run_base.rglob("*.log")), "the server's log was not under the data dir: the test proves nothing"
    finally:
        for pid in pids_serving(data_dir):
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(data_dir, ignore_errors=True)


def test_the_hook_shim_answers_through_the_server_and_ignores_modules_in_the_cwd(warm: Warm, tmp_path: Path) -> None:
    """The installed Claude Code hook runs the shim from the agent's working
    directory: a memman/ package there must never be imported."""
    shim = Path(__file__).resolve().parents[2] / "hooks" / "claude-code" / "memman-hook.sh"
    repo = tmp_path / "repo"
    (repo / "memman").mkdir(parents=True)
    (repo / "memman" / "__init__.py").write_text("raise SystemExit('the working directory was imported')\n")
    payload = json.dumps({"hook_event_name": "UserPromptSubmit", "session_id": "s1", "prompt": "why sqlite",
                          "cwd": str(repo)}).encode()  # fmt: skip
    env = {**warm.env, "MEMMAN_PYTHON": sys.executable}
    assert warm.run("config", "set", "recall.inject_budget_ms", "30000", MEMMAN_SERVER="off").returncode == 0

    def shim_run(**extra: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(["sh", str(shim), "user-prompt-submit"], input=payload, capture_output=True,
                              env={**env, **extra}, cwd=repo, timeout=120)  # fmt: skip

    cold = shim_run(MEMMAN_SERVER="off")
    assert cold.returncode == 0 and b"Chose SQLite" in cold.stdout, cold.stderr
    warm.start()
    hot = shim_run()
    assert (hot.returncode, hot.stdout, hot.stderr) == (cold.returncode, cold.stdout, cold.stderr)
    assert warm.status()["served"] == 1
