#!/usr/bin/env bash
# `npm run demo`: runs scripts/demo.ts with Node 22 (fetched by scripts/ensure-node.sh when the
# machine's node is older), so that one command works on a fresh machine after `npm ci`.
set -euo pipefail
cd "$(dirname "$0")/.."
node_dir="$(scripts/ensure-node.sh)"
export PATH="$node_dir:$PATH"
exec node --require tsx/cjs scripts/demo.ts "$@"
