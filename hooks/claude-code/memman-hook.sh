#!/bin/sh
# memman's Claude Code hook shim: the hook JSON arrives on stdin, the answer
# (hookSpecificOutput JSON, or nothing) goes to stdout. All logic lives in
# `memman hook`; this file only finds the Python that memman was installed
# into (MEMMAN_PYTHON, set by `memman install` in the settings.json command).
"${MEMMAN_PYTHON:-python3}" -m memman hook "$@"
rc=$?
# Exit code 2 means "block" to Claude Code (the prompt, the tool call, the
# stop). memman never means that: report other failures as non-blocking.
[ "$rc" -eq 2 ] && exit 1
exit "$rc"
