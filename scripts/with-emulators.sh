#!/usr/bin/env bash
# Runs a command with local AWS emulators up: moto_server (DynamoDB, S3,
# EventBridge) and dynalite (a second, stricter DynamoDB). Exports
# CHATCARDS_TEST_MOTO and CHATCARDS_TEST_DYNALITE for the integration tests,
# then stops both. When an emulator cannot start, the tests skip loudly, or
# fail when CHATCARDS_REQUIRE_INTEGRATION=1.
set -u
export PATH="/usr/local/go/bin:$HOME/go/bin:$HOME/.pyenv/shims:$PATH"
logdir=$(mktemp -d)
pids=()
# Each emulator runs in its own process group (setsid), so stopping the
# group also stops children such as the node process behind npx.
cleanup() {
  for p in "${pids[@]}"; do kill -- "-$p" 2>/dev/null || kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$logdir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo $((20000 + RANDOM % 20000)); }

wait_http() { # url seconds
  local i
  for ((i = 0; i < $2 * 5; i++)); do
    curl -s -o /dev/null "$1" && return 0
    sleep 0.2
  done
  return 1
}

if command -v moto_server >/dev/null 2>&1; then
  port=$(free_port)
  setsid moto_server -H 127.0.0.1 -p "$port" >"$logdir/moto.log" 2>&1 &
  pids+=($!)
  if wait_http "http://127.0.0.1:$port/moto-api/" 30; then
    export CHATCARDS_TEST_MOTO="http://127.0.0.1:$port"
    echo "with-emulators: moto_server on $CHATCARDS_TEST_MOTO"
  else
    echo "with-emulators: moto_server did not start:"; tail -5 "$logdir/moto.log"
  fi
else
  echo "with-emulators: moto_server not found (pip install 'moto[server]'); moto tests will skip"
fi

if command -v npx >/dev/null 2>&1; then
  port=$(free_port)
  setsid npx --yes dynalite@4 --port "$port" >"$logdir/dynalite.log" 2>&1 &
  pids+=($!)
  if wait_http "http://127.0.0.1:$port/" 120; then
    export CHATCARDS_TEST_DYNALITE="http://127.0.0.1:$port"
    echo "with-emulators: dynalite on $CHATCARDS_TEST_DYNALITE"
  else
    echo "with-emulators: dynalite did not start:"; tail -5 "$logdir/dynalite.log"
  fi
else
  echo "with-emulators: npx not found (install Node.js); dynalite tests will skip"
fi

"$@"
