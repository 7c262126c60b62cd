#!/bin/sh
# memman NanoClaw entrypoint. With no arguments: `memman scheduler serve` is
# the container's main process (PID 1 via exec). With arguments (the agent
# command): serve runs in the background, the agent in the foreground, and
# SIGTERM reaches both.
set -eu
: "${MEMMAN_DATA_DIR:=/data/memman}"
export MEMMAN_DATA_DIR
mkdir -p "$MEMMAN_DATA_DIR"
MEMMAN="${MEMMAN_PYTHON:-python3} -m memman"
if [ "$#" -eq 0 ]; then
    exec $MEMMAN scheduler serve
fi
$MEMMAN scheduler serve &
serve=$!
trap 'kill -TERM "$serve" 2>/dev/null' TERM INT
"$@" &
agent=$!
trap 'kill -TERM "$agent" "$serve" 2>/dev/null' TERM INT
wait "$agent" || status=$?
kill -TERM "$serve" 2>/dev/null || true
wait "$serve" || true
exit "${status:-0}"
