#!/bin/sh
# memman's Claude Code hook shim: the hook JSON arrives on stdin, the answer
# (hookSpecificOutput JSON, or nothing) goes to stdout. All logic lives in
# `memman hook`; this file only finds the Python that memman was installed
# into (MEMMAN_PYTHON, set by `memman install` in the settings.json command).
# -c, not -m: runpy's imports cost ~3 ms of a prompt's warm hook; -P: the
# agent's working directory (a repository) is never searched for modules.
"${MEMMAN_PYTHON:-python3}" -P -c 'from memman.entry import main; main()' hook "$@"
rc=$?
# Exit code 2 means "block" to Claude Code (the prompt, the tool call, the
# stop). memman never means that: report other failures as non-blocking.
[ "$rc" -eq 2 ] && exit 1
exit "$rc"
