#!/usr/bin/env bash
# The main job, end to end: set up, start a Zordon server on this machine,
# have Blender make a sample scene, render it through the server, and say
# where the frames are. The server stops when this script ends.
set -euo pipefail

cd "$(dirname "$0")/.."
./scripts/setup.sh

ZORDON=.venv/bin/zordon
PYTHON=.venv/bin/python
DATA_DIR="$PWD/demo-data"
FRAMES=1-8
mkdir -p "$DATA_DIR"

say() { printf 'demo: %s\n' "$*" >&2; }

free_port() {
    "$PYTHON" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

SERVER_PID=""
stop_server() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        say "stopping the server (pid $SERVER_PID)"
        kill -TERM "$SERVER_PID"
        wait "$SERVER_PID" 2>/dev/null || true
    fi
}
trap stop_server EXIT

wait_for_server() {
    # $1: the server's URL. Gives up after 30 s or when the server exits.
    "$PYTHON" - "$1" "$SERVER_PID" <<'EOF'
import sys, time
import psutil
from zordon.client import RenderServerProxy

proxy, pid = RenderServerProxy(sys.argv[1]), int(sys.argv[2])
deadline = time.monotonic() + 30
while not proxy.check_connection():
    if not psutil.pid_exists(pid) or time.monotonic() > deadline:
        sys.exit(1)
    time.sleep(0.1)
EOF
}

PORT=$(free_port)
URL="http://127.0.0.1:$PORT"
SERVER_LOG="$DATA_DIR/server.out"
say "starting zordon server on $URL, data in $DATA_DIR (its output: $SERVER_LOG)"
"$ZORDON" server --host 127.0.0.1 --port "$PORT" --data-dir "$DATA_DIR" \
    --no-discovery >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!
if ! wait_for_server "$URL"; then
    say "the server did not come up; the end of its output:"
    tail -n 20 "$SERVER_LOG" >&2
    exit 1
fi

SCENE="$DATA_DIR/scene.blend"
say "Blender is making a sample scene: $SCENE"
if ! blender -b --factory-startup --python scripts/make_scene.py -- "$SCENE" \
    --frames 8 --width 320 --height 180 --samples 16 >"$DATA_DIR/make_scene.log" 2>&1; then
    tail -n 20 "$DATA_DIR/make_scene.log" >&2
    exit 1
fi

say "submitting: zordon submit $SCENE --frames $FRAMES --watch --server $URL"
if ! JOB_ID=$("$ZORDON" submit "$SCENE" --frames "$FRAMES" --watch --server "$URL"); then
    say "the job did not complete; the server's log is $SERVER_LOG"
    exit 1
fi

OUTPUT_DIR=$("$PYTHON" -c 'import sys
from zordon.client import RenderServerProxy
print(RenderServerProxy(sys.argv[1]).get_job(sys.argv[2])["output_dir"])' "$URL" "$JOB_ID")
echo
echo "Job $JOB_ID rendered frames $FRAMES. They are in:"
echo "  $OUTPUT_DIR"
ls -l "$OUTPUT_DIR"
