#!/usr/bin/env bash
# Runs the official ClickHouse JS client's own integration tests (common + Node) against the local
# server (`npm run clickhouse`, fresh data directory), to see it as any client would.
#
#   tools/client-suite.sh                       # whole suite, prints vitest's summary
#   tools/client-suite.sh -t JSONEachRowWithProgress
#
# Environment:
#   CLICKHOUSE_JS_REF   tag to test (default client-1.23.1, the version of our client-web)
#   CLICKHOUSE_JS_GIT   where to clone it from (default GitHub; a local mirror path works)
#   CLICKHOUSE_JS_DIR   checkout to use or create (default $TMPDIR/clickhouse-js-<ref>)
#   CLICKHOUSE_PORT     port for the local server (default 8123: one test of the suite creates a
#                       client with the default URL and cannot reach any other port)
# Expected failures and why: docs/operations.md, "The ClickHouse client's test suite".
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
ref=${CLICKHOUSE_JS_REF:-client-1.23.1}
source=${CLICKHOUSE_JS_GIT:-https://github.com/ClickHouse/clickhouse-js.git}
dir=${CLICKHOUSE_JS_DIR:-${TMPDIR:-/tmp}/clickhouse-js-$ref}
port=${CLICKHOUSE_PORT:-8123}

if [ ! -d "$dir" ]; then
  git clone --quiet --depth 1 --branch "$ref" "$source" "$dir"
fi
if [ ! -d "$dir/node_modules" ]; then
  (cd "$dir" && npm install --no-audit --no-fund --loglevel=error)
fi
# The suite's test client always uses 127.0.0.1:8123; let it follow CLICKHOUSE_SUITE_PORT.
sed -i 's#"http://127.0.0.1:8123"#`http://127.0.0.1:${process.env.CLICKHOUSE_SUITE_PORT ?? 8123}`#' \
  "$dir/packages/client-common/__tests__/utils/client.ts"

data=$(mktemp -d "${TMPDIR:-/tmp}/client-suite-data-XXXXXX")
log="$data.log"
# Own process group, so the server and its children stop with one kill.
(cd "$root" && CLICKHOUSE_PORT="$port" CLICKHOUSE_DATA_DIR="$data" exec setsid npm run clickhouse >"$log" 2>&1) &
server=$!
stop() {
  kill -- "-$server" 2>/dev/null || true
  for _ in $(seq 20); do kill -0 "$server" 2>/dev/null || break; sleep 0.5; done
  kill -9 -- "-$server" 2>/dev/null || true
  rm -rf "$data" "$log"
}
trap stop EXIT
for _ in $(seq 60); do
  curl -sf "http://127.0.0.1:$port/ping" >/dev/null && break
  kill -0 "$server" 2>/dev/null || { cat "$log"; exit 1; }
  sleep 1
done

# Node 24 from this project (the suite's vitest needs Node ≥ 20.19).
cd "$dir/packages/client-node"
PATH="$root/node_modules/node/bin:$PATH" CLICKHOUSE_SUITE_PORT="$port" TEST_MODE=integration \
  npx vitest run "$@"
