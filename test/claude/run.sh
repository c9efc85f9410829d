#!/usr/bin/env bash
# Checks with Claude Code that wasmgate connects on the first try, as a new
# user's first `claude mcp list` would:
#
#   1. the server `make run` starts (on a free port here), added with the
#      `claude mcp add --transport http ...` command its start-up report
#      prints;
#   2. a stdio `wasmgate serve guests/` with an empty compilation cache
#      (XDG_CACHE_HOME in a new temporary directory), added with
#      `claude mcp add NAME -- COMMAND`.
#
# One `claude mcp list` must then report both "Connected" (it gives each
# server 30 s to answer initialize). Only the `mcp add` and `mcp list`
# subcommands are used: no login, no model. HOME is a temporary directory,
# so no real configuration is read or touched.
#
# make test-claude runs it after `npm ci` here (Claude Code and the Node 22
# it asks for come from npm into test/claude/node_modules). The logs stay in
# test/claude/results/.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
claude="$here/node_modules/.bin/claude"
wasmgate="${WASMGATE:-$root/bin/wasmgate}"

[ -x "$claude" ] || { echo "Claude Code not installed: cd test/claude && npm ci" >&2; exit 1; }
[ -x "$wasmgate" ] || { echo "$wasmgate not built: make build" >&2; exit 1; }

out="$here/results"
rm -rf "$out"
mkdir -p "$out"
work="$(mktemp -d "${TMPDIR:-/tmp}/wasmgate-claude.XXXXXX")"

# Claude Code with nothing of the user's: a fresh HOME, no credentials, no
# updates or telemetry, Node 22 first on PATH. (make run keeps the user's
# environment.)
mkdir -p "$work/home" "$work/project"
claude() {
  (cd "$work/project" &&
    env -u CLAUDE_CONFIG_DIR -u XDG_CONFIG_HOME -u ANTHROPIC_API_KEY -u ANTHROPIC_AUTH_TOKEN \
      HOME="$work/home" PATH="$here/node_modules/node/bin:$PATH" \
      DISABLE_AUTOUPDATER=1 DISABLE_TELEMETRY=1 CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 \
      "$claude" "$@")
}
echo "Claude Code $(claude --version)"

# 1. make run, in a process group of its own so that it stops as with Ctrl-C.
set -m
make -C "$root" --no-print-directory run ADDR=127.0.0.1:0 >"$out/make-run.log" 2>&1 &
run=$!
set +m
stop() {
  kill -INT -- -"$run" 2>/dev/null || true
  wait "$run" 2>/dev/null || true
  rm -rf "$work"
}
trap stop EXIT
add=""
for _ in $(seq 600); do
  add="$(sed -n 's/^  Claude Code  *\(claude mcp add .*\)$/\1/p' "$out/make-run.log")"
  [ -n "$add" ] && break
  kill -0 "$run" 2>/dev/null || { cat "$out/make-run.log" >&2; echo "make run exited" >&2; exit 1; }
  sleep 0.5
done
[ -n "$add" ] || { cat "$out/make-run.log" >&2; echo "make run printed no claude mcp add command" >&2; exit 1; }
echo "make run says: $add"
read -r -a words <<<"${add#claude }"
claude "${words[@]}"

# 2. stdio, every module of guests/, nothing compiled yet.
claude mcp add guests -e XDG_CACHE_HOME="$work/cache" -- "$wasmgate" serve "$root/guests"

# One look, as a new user would take it.
status=0
claude mcp list | tee "$out/mcp-list.log" || status=$?
for name in wasmgate guests; do
  if ! grep -q "^$name: .*Connected" "$out/mcp-list.log"; then
    echo "FAIL: claude mcp list does not report $name Connected" >&2
    status=1
  fi
done
[ $status -eq 0 ] && echo "ok: make run's server and a cold stdio serve guests/ both connected on the first try"
exit $status
