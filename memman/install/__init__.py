"""Agent integration: install/uninstall into Claude Code, Codex, OpenClaw and
NanoClaw (`targets.py`, `manifest.py`, `jsonc.py`), the first-run wizard
(`wizard.py`), and what the hooks answer (`prime.py`, `hookrun.py`).
The assets themselves (shims, skill and guide text, plugin files, the NanoClaw
recipe) live in the top-level `hooks/` package, shipped in the wheel."""
