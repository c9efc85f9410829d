#!/usr/bin/env bash
# Runs every server scenario of the official MCP conformance suite, versions
# 0.1.16 and 0.2.0-alpha.12, against `wasmgate serve --http` serving the
# modules of guests/conformance/ with guests/conformance/policy.yaml.
#
# make conformance runs it after `npm ci` here (Node 22 and both suites come
# from npm into test/conformance/node_modules). Per version it prints each
# scenario's result and a total line, and it fails when a scenario fails
# that expected-failures/VERSION.yaml does not list, or passes although it
# does.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
node="$here/node_modules/node/bin/node"
wasmgate="${WASMGATE:-$root/bin/wasmgate}"
versions=(0.1.16 0.2.0-alpha.12)

[ -x "$node" ] || { echo "Node 22 not installed: cd test/conformance && npm ci" >&2; exit 1; }
[ -x "$wasmgate" ] || { echo "$wasmgate not built: make build" >&2; exit 1; }

out="$here/results"
rm -rf "$out"
mkdir -p "$out"

# Serve on a free loopback port; wasmgate prints the URL it listens on.
log="$out/serve.log"
# --poll-after: test_reconnection runs 1.5 s, so its stream is closed
# mid-call and resumed (server-sse-polling); every other call is shorter.
"$wasmgate" serve --http 127.0.0.1:0 --poll-after 500ms --policy "$root/guests/conformance/policy.yaml" "$root/guests/conformance" 2>"$log" &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true' EXIT
url=""
for _ in $(seq 100); do
  url="$(sed -n 's/^  streamable HTTP  \(http:[^ ]*\)$/\1/p' "$log")"
  [ -n "$url" ] && break
  kill -0 $server 2>/dev/null || { cat "$log" >&2; echo "wasmgate serve exited" >&2; exit 1; }
  sleep 0.1
done
[ -n "$url" ] || { cat "$log" >&2; echo "wasmgate serve did not start" >&2; exit 1; }
echo "serving guests/conformance at $url"

status=0
for v in "${versions[@]}"; do
  echo
  echo "== MCP conformance $v: every server scenario (--suite all)"
  rc=0
  (cd "$out" && "$node" "$here/node_modules/conformance-$v/dist/index.js" server \
      --url "$url" --suite all -o "$out/$v" \
      --expected-failures "$here/expected-failures/$v.yaml") >"$out/$v.log" 2>&1 || rc=$?
  go run "$here/summary" -version "$v" -expected "$here/expected-failures/$v.yaml" "$out/$v" || status=1
  if [ $rc -ne 0 ]; then
    echo "conformance $v exited with status $rc (unexpected failures, or expected failures that now pass); its output: test/conformance/results/$v.log"
    status=1
  fi
done
exit $status
