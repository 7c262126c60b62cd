"""The OpenClaw plugin, for real: its TypeScript is type-checked and compiled
by a pinned TypeScript from npm, then run under Node against the real memman
CLI. before_prompt_build returns the relevant memory fenced in prependContext,
nothing for an unrelated prompt; the recall tool answers."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from memman.install.prime import hooks_dir
from tests.cli.conftest import Cli

TYPESCRIPT = "typescript@5.6.3"
NODE_TYPES = "@types/node@20.19.43"
pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None,
    reason="node and npm are needed to compile and run the OpenClaw plugin (apt-get install nodejs npm)",
)

HARNESS = """
import register from "./index.js";
const [command, dataDir, workspace] = process.argv.slice(2);
const handlers = {}, tools = {};
register({ config: { command, dataDir, budgetMs: 60000 },
           on: (name, handler) => { handlers[name] = handler; },
           registerTool: (tool) => { tools[tool.name] = tool; } });
const ctx = { workspaceDir: workspace, sessionKey: "s1" };
const out = {
  events: Object.keys(handlers), tools: Object.keys(tools),
  relevant: await handlers.before_prompt_build({ prompt: "which port does the staging database listen on" }, ctx),
  unrelated: (await handlers.before_prompt_build({ prompt: "write a haiku about autumn" }, ctx)) ?? null,
  empty: (await handlers.before_prompt_build({ prompt: "" }, ctx)) ?? null,
  recall: await tools.memman_recall.execute("t1", { query: "staging database port" }),
};
console.log(JSON.stringify(out));
"""


HOSTILE_HARNESS = """
import register from "./index.js";
const [command, dataDir, workspace, prompt] = process.argv.slice(2);
const handlers = {}, tools = {};
register({ config: { command, dataDir, budgetMs: 60000 },
           on: (name, handler) => { handlers[name] = handler; },
           registerTool: (tool) => { tools[tool.name] = tool; } });
const ctx = { workspaceDir: workspace, sessionKey: "s2" };
console.log(JSON.stringify({
  prompt: (await handlers.before_prompt_build({ prompt }, ctx)) ?? null,
  recall: await tools.memman_recall.execute("t2", { query: prompt }),
}));
"""


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    build = tmp_path_factory.mktemp("openclaw")
    cache = tmp_path_factory.getbasetemp().parent / "memman-npm-cache"
    npm = subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--silent", "--prefix", str(build), TYPESCRIPT, NODE_TYPES],
        capture_output=True, text=True, timeout=600, env={**_env(), "npm_config_cache": str(cache)},
    )
    if npm.returncode != 0:
        pytest.skip(f"npm could not install {TYPESCRIPT}: {npm.stderr.strip().splitlines()[-1:]}")
    sources = hooks_dir() / "openclaw"
    out = build / "out"
    tsc = subprocess.run(
        [str(build / "node_modules" / ".bin" / "tsc"), "--strict", "--target", "es2022", "--module", "es2022",
         "--moduleResolution", "bundler", "--types", "node", "--typeRoots", str(build / "node_modules" / "@types"),
         "--outDir", str(out), str(sources / "plugin" / "index.ts"), str(sources / "hook" / "handler.ts")],
        capture_output=True, text=True, timeout=300,
    )
    assert tsc.returncode == 0, tsc.stdout + tsc.stderr  # type errors fail the test, not only syntax
    (out / "plugin" / "package.json").write_text('{"type": "module"}\n')
    (out / "plugin" / "harness.mjs").write_text(HARNESS)
    (out / "plugin" / "hostile.mjs").write_text(HOSTILE_HARNESS)
    return out / "plugin"


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)


def test_before_prompt_build_injects_only_relevant_memories(compiled: Path, cli: Cli, tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    (workspace / ".git").mkdir(parents=True)
    cli.ok("remember", "The staging database listens on port 5433", "--cat", "fact", cwd=workspace)
    cli.ok("scheduler", "drain")
    cli.ok("config", "set", "recall.inject_budget_ms", "30000")  # a loaded machine must not make this the reminder
    command = str(Path(sys.executable).parent / "memman")
    run = subprocess.run(["node", str(compiled / "harness.mjs"), command, str(cli.data_dir), str(workspace)],
                         capture_output=True, text=True, timeout=300, cwd=compiled, env=cli.env())
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["events"] == ["before_prompt_build"] and out["tools"] == ["memman_recall", "memman_remember"]
    block = out["relevant"]["prependContext"]
    assert block.startswith("<memories ") and "port 5433" in block.splitlines()[1] and 'trust="untrusted"' in block
    assert out["unrelated"] is None and out["empty"] is None
    assert "5433" in out["recall"]["content"][0]["text"]


def test_hostile_memory_text_reaches_the_model_fenced_and_inert(compiled: Path, cli: Cli, tmp_path: Path) -> None:
    """Both ways the plugin hands memories to the model, the prompt injection
    and the recall tool's result, carry one fenced block that no memory can
    close or speak inside, without escapes, bidi or zero-width characters."""
    from tests.mcp.test_hostile import HOSTILE_SET, PROMPT, assert_fenced_and_inert

    workspace = tmp_path / "ws"
    (workspace / ".git").mkdir(parents=True)
    for text in ("We chose SQLite over Postgres for the embedded store", "Release builds run on the ci-7 runner"):
        cli.ok("remember", text, cwd=workspace)
    ids = {cli.ok("remember", text, "--json", cwd=workspace).json()["id"] for text in HOSTILE_SET}
    cli.ok("scheduler", "drain")
    cli.ok("config", "set", "recall.inject_budget_ms", "30000")
    command = str(Path(sys.executable).parent / "memman")
    run = subprocess.run(["node", str(compiled / "hostile.mjs"), command, str(cli.data_dir), str(workspace), PROMPT],
                         capture_output=True, text=True, timeout=300, cwd=compiled, env=cli.env())
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert set(out["prompt"]) == {"prependContext"}  # a memory's JSON cannot add a decision to the hook's answer
    assert_fenced_and_inert(out["prompt"]["prependContext"], ids, every=False)  # what passed the relevance gate
    recalled = out["recall"]["content"][0]["text"].rstrip("\n")
    assert_fenced_and_inert("\n".join(line for line in recalled.splitlines() if "SQLite" not in line and "ci-7" not in line),
                            ids)
