#!/usr/bin/env bash
# Prints, as the last line of stdout, a directory holding the Pulumi CLI kit that `pulumi preview` /
# `pulumi up` in this project's folder need:
#   pulumi                          the CLI;
#   pulumi-language-nodejs          the Node.js language host, which runs index.ts in the folder;
#   pulumi-resource-pulumi-nodejs   the plugin serving the program's dynamic providers (it ships in
#                                   @pulumi/pulumi; the engine looks for it on PATH or next to pulumi).
#
# A `pulumi` already on PATH (an installed CLI, as users and pipelines have) is used as it is: its
# directory is printed. Otherwise the kit is built once and cached outside the repository, because
# the usual installs (install script, release archives, the npm package that downloads at run time)
# cannot work on machines that reach only package registries:
#   - the CLI from its Go module sources (about 9 minutes on 2 cores, 1.6 GB of Go modules and
#     1.7 GB of Go build cache, a 120 MB binary);
#   - the language host from the Go module proxy when it serves it, else from the source kept in
#     vendor/pulumi-language-nodejs/ (about 1 more minute);
#   - the dynamic-provider plugin copied from node_modules/@pulumi/pulumi (run `npm ci` first).
# Cache: ${DEC_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/devops-entra-connect}/pulumi-v<version>/bin/
# Later runs take well under a second. Remove that directory to rebuild.
#
# Usage:   export PATH="$(scripts/ensure-pulumi-cli.sh):$PATH"
# Env:
#   DEC_BUILD_PULUMI=1      ignore a `pulumi` on PATH and use (or build) the cached kit.
#   PULUMI_CLI_VERSION=X    wanted CLI version (default: @pulumi/pulumi in package-lock.json). When
#                           the Go module source of X cannot be downloaded, the newest served version
#                           below it is used (a CLI a few minor versions older than the SDK is fine).
#   DEC_CACHE_DIR           cache root (shared with scripts/ensure-node.sh).
# Progress goes to stderr (with the elapsed time during builds); only the directory goes to stdout.
set -euo pipefail

PKG=github.com/pulumi/pulumi/pkg/v3
SDK=github.com/pulumi/pulumi/sdk/v3
LANG_NODEJS=github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3
VERSION_PKG=github.com/pulumi/pulumi/sdk/v3/go/common/version
LANG_HOST=pulumi-language-nodejs
DYNAMIC_PLUGIN=pulumi-resource-pulumi-nodejs

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(dirname "$script_dir")
vendored_lang="$repo_root/vendor/pulumi-language-nodejs"

log() { printf 'ensure-pulumi-cli: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}
# Go's errors quote the addresses it fetched from; keep only the module paths and the reason.
scrub() { sed -E 's#[A-Za-z][A-Za-z0-9+.-]*://[^/[:space:]]+#<module source>#g'; }
works() { [ -x "$1" ] && "$1" version >/dev/null 2>&1; }
# True when the plugin is next to the CLI in $1 or anywhere on PATH (where the engine looks).
reachable() { [ -x "$1/$2" ] || command -v "$2" >/dev/null 2>&1; }

# 1. A CLI that users and pipelines already have: theirs, untouched.
if [ "${DEC_BUILD_PULUMI:-}" != 1 ] && command -v pulumi >/dev/null 2>&1 && pulumi version >/dev/null 2>&1; then
  dir=$(dirname "$(command -v pulumi)")
  for plugin in "$LANG_HOST" "$DYNAMIC_PLUGIN"; do
    reachable "$dir" "$plugin" ||
      log "warning: no $plugin next to $dir/pulumi or on PATH; 'pulumi up' of this project needs it (DEC_BUILD_PULUMI=1 builds a complete kit instead)"
  done
  log "using pulumi $(pulumi version 2>/dev/null) found on PATH ($dir)"
  echo "$dir"
  exit 0
fi

# 2. The wanted version.
want=${PULUMI_CLI_VERSION:-}
if [ -z "$want" ]; then
  lock="$repo_root/package-lock.json"
  [ -f "$lock" ] || die "no $lock to read the @pulumi/pulumi version from; set PULUMI_CLI_VERSION"
  want=$(awk '
    /"node_modules\/@pulumi\/pulumi": *\{/ { inpkg = 1; next }
    inpkg && /"version":/ { gsub(/.*"version": *"|".*/, ""); print; exit }
    inpkg && /^    \}/ { inpkg = 0 }
  ' "$lock")
  [ -n "$want" ] || die "could not read the @pulumi/pulumi version from $lock; set PULUMI_CLI_VERSION"
fi
want=${want#v}
case "$want" in
  3.*) ;;
  *) die "unsupported Pulumi version '$want' (expected 3.x.y)" ;;
esac

cache_root="${DEC_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/devops-entra-connect}"
mkdir -p "$cache_root"
# The version actually built for a wanted one, recorded after a successful build so that cached
# runs need no network.
resolved_file="$cache_root/pulumi-resolved-v$want"

kit_dir() {
  local v=$want
  [ -f "$resolved_file" ] && v=$(cat "$resolved_file")
  echo "$cache_root/pulumi-v$v/bin"
}
kit_complete() {
  works "$1/pulumi" && reachable "$1" "$LANG_HOST" && [ -x "$1/$DYNAMIC_PLUGIN" ]
}
announce() {
  log "pulumi $("$1/pulumi" version 2>/dev/null) ready in $1 (with $LANG_HOST and $DYNAMIC_PLUGIN)"
  echo "$1"
}

dir=$(kit_dir)
if kit_complete "$dir"; then
  announce "$dir"
  exit 0
fi

# Serialise concurrent runs (parallel test jobs, a demo started while the tests build) on one cache.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$cache_root/.pulumi-cli.lock"
  if ! flock -n 9; then
    log "another run is building the Pulumi CLI kit in $cache_root; waiting for it"
    flock 9
  fi
  dir=$(kit_dir)
  if kit_complete "$dir"; then
    announce "$dir"
    exit 0
  fi
fi

# 3. Go.
if ! command -v go >/dev/null 2>&1; then
  [ -x /usr/local/go/bin/go ] && PATH="/usr/local/go/bin:$PATH"
fi
command -v go >/dev/null 2>&1 || die "Go is not installed (needed to build the Pulumi CLI from its module sources), and no working 'pulumi' is on PATH"

tmp=$(mktemp -d "$cache_root/.pulumi-build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# with_progress LABEL ESTIMATE LOGFILE COMMAND...: runs COMMAND with its output in LOGFILE, and says
# every 30 s how long it has been running against the usual duration, so nobody thinks it hangs.
with_progress() {
  local label=$1 estimate=$2 logfile=$3 start pid elapsed next=30
  shift 3
  start=$(date +%s)
  "$@" >"$logfile" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    elapsed=$(($(date +%s) - start))
    if [ "$elapsed" -ge "$next" ] && kill -0 "$pid" 2>/dev/null; then
      log "$label: $((elapsed / 60))m$(printf '%02d' $((elapsed % 60)))s so far (usually $estimate on 2 cores)"
      next=$((next + 30))
    fi
  done
  wait "$pid"
}

# Copies the non-local replace directives (single lines and blocks) of the given go.mod files into the
# go.mod of the current directory: pkg/go.mod needs them, and `go build` ignores a dependency's own.
copy_replaces() {
  local old a b c d new newv oldv
  awk '
    /^replace[[:space:]]*\(/ { blk = 1; next }
    blk && /^\)/ { blk = 0; next }
    blk { print; next }
    /^replace[[:space:]]/ { sub(/^replace[[:space:]]+/, ""); print }
  ' "$@" | while read -r old a b c d; do
    # "old [ver] => new [ver]"
    if [ "$a" = "=>" ]; then new=$b; newv=$c; oldv=; else oldv=$a; new=$c; newv=$d; fi
    case "$new" in .* | /*) continue ;; esac
    go mod edit -replace="$old${oldv:+@$oldv}=$new${newv:+@$newv}" || return 1
  done
}

# build_in DIR OUTPUT MAIN_PACKAGE VERSION GO_MOD_FILES... -- TOOL@VERSION [MODULE@VERSION...]
# A throwaway module that requires the tool (so `go mod tidy` keeps it) and the modules pinned with it,
# then a static build with the version stamped in (the Automation API refuses a CLI reporting none).
build_in() {
  local d=$1 o=$2 main=$3 v=$4 mods=()
  shift 4
  while [ "$1" != -- ]; do mods+=("$1"); shift; done
  shift
  mkdir -p "$d" && cd "$d" || return 1
  go mod init dec.local/build >/dev/null 2>&1 || return 1
  copy_replaces "${mods[@]}" || return 1
  go get -tool "$1" || return 1
  shift
  [ $# -eq 0 ] || go get "$@" || return 1
  go mod tidy || return 1
  CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X $VERSION_PKG.Version=v$v" -o "$o" "$main"
}

# The vendored language host: a copy of vendor/pulumi-language-nodejs/ built with the version its
# go.mod pins (the folder may be read-only; the build writes go.sum updates into the copy).
build_vendored_lang() {
  local out=$1 v
  v=$(sed -nE "s#^[[:space:]]*$SDK v([0-9.]+)\$#\\1#p" "$vendored_lang/go.mod" | head -n1)
  [ -n "$v" ] || return 1
  mkdir -p "$tmp/lang-vendored" && cp "$vendored_lang"/*.go "$vendored_lang"/go.mod "$vendored_lang"/go.sum "$tmp/lang-vendored"/ &&
    chmod -R u+w "$tmp/lang-vendored" && cd "$tmp/lang-vendored" &&
    CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -tags osusergo,grpcnotrace \
      -ldflags "-s -w -X $VERSION_PKG.Version=v$v" -o "$out" .
}

# go mod download -json prints "Error" for a version it could not fetch; echo the field $2 otherwise.
mod_field() { # module@version field
  local out
  out=$(cd "$tmp" && go mod download -json "$1" 2>/dev/null) || true
  if [ -z "$out" ] || grep -q '"Error"' <<<"$out"; then
    grep '"Error"' <<<"$out" | sed -E 's/.*"Error": *"(.*)",?$/\1/; s/\\n.*//; s/\\t//g' | scrub >>"$tmp/resolve.log" || true
    return 1
  fi
  sed -nE "s/^[[:space:]]*\"$2\": *\"([^\"]*)\".*/\\1/p" <<<"$out" | head -n1
}

if ! works "$dir/pulumi"; then
  # 4. Pick the version: the wanted one, else the newest served one below it.
  log "need pulumi v$want: resolving its Go module source"
  candidates=$want
  served=$(cd "$tmp" && go list -m -versions "$PKG" 2>/dev/null | tr ' ' '\n' | sed -n 's/^v//p') || true
  if [ -n "$served" ]; then
    older=$(printf '%s\n' "$served" "$want" | grep -v -- - | sort -V -u | awk -v w="$want" '$0 == w { exit } { print }' | sort -V -r)
    candidates=$(printf '%s\n%s\n' "$want" "$older")
  fi
  ver=
  tries=0
  for c in $candidates; do
    tries=$((tries + 1))
    [ "$tries" -le 6 ] || break
    if mod_field "$PKG@v$c" Dir >/dev/null && mod_field "$SDK@v$c" Dir >/dev/null; then
      ver=$c
      break
    fi
    log "v$c cannot be downloaded: $(tail -n1 "$tmp/resolve.log" 2>/dev/null)"
  done
  [ -n "$ver" ] || die "no version of $PKG at or below v$want could be downloaded (tried: $(echo "$candidates" | head -n6 | tr '\n' ' '))"
  [ "$ver" = "$want" ] || log "falling back to v$ver, the newest served version below v$want"

  dir="$cache_root/pulumi-v$ver/bin"
  if ! works "$dir/pulumi"; then
    # 5. Build the CLI in a throwaway module.
    log "building pulumi v$ver from its Go module sources, once: usually about 9 minutes on 2 cores (cached in $(dirname "$dir"))"
    start=$(date +%s)
    gomod=$(cd "$tmp" && go list -m -f '{{.GoMod}}' "$PKG@v$ver")
    with_progress "building pulumi v$ver" "about 9 min" "$tmp/cli.log" \
      build_in "$tmp/cli" "$tmp/pulumi" "$PKG/cmd/pulumi" "$ver" "$gomod" -- "$PKG/cmd/pulumi@v$ver" "$SDK@v$ver" || {
      scrub <"$tmp/cli.log" | tail -n 30 >&2
      die "building pulumi v$ver failed (log above)"
    }
    got=$("$tmp/pulumi" version 2>&1) || die "the built pulumi does not run: $got"
    [ "$got" = "v$ver" ] || die "the built pulumi reports '$got', expected v$ver"
    mkdir -p "$dir"
    mv -f "$tmp/pulumi" "$dir/pulumi"
    log "built pulumi v$ver in $(($(date +%s) - start))s"
  fi
  echo "$ver" >"$resolved_file"
fi
ver=$(basename "$(dirname "$dir")")
ver=${ver#pulumi-v}

# 6. The Node.js language host, unless one is already on PATH. It has no tags of its own: the Go
#    module proxy can only serve it at the pseudo-version of the commit tagged sdk/v<ver>, and
#    usually does not; then it is built from vendor/pulumi-language-nodejs/.
if ! reachable "$dir" "$LANG_HOST"; then
  lang_ver=
  commit=$(mod_field "$SDK@v$ver" Hash || true) # the Origin hash: the tag's commit, when given
  if [[ "$commit" =~ ^[0-9a-f]{12,40}$ ]]; then
    ts=$(cd "$tmp" && go list -m -f '{{.Time.UTC.Format "20060102150405"}}' "$SDK@v$ver" 2>/dev/null) || ts=
    [ -z "$ts" ] || lang_ver=$(cd "$tmp" && go list -m -f '{{.Version}}' "$LANG_NODEJS@v3.0.0-$ts-${commit:0:12}" 2>/dev/null) || lang_ver=
  fi
  start=$(date +%s)
  if [ -n "$lang_ver" ]; then
    log "building $LANG_HOST $lang_ver from the Go module proxy: usually 1-3 minutes"
    langmod=$(cd "$tmp" && go list -m -f '{{.GoMod}}' "$LANG_NODEJS@$lang_ver")
    gomod=$(cd "$tmp" && go list -m -f '{{.GoMod}}' "$PKG@v$ver")
    with_progress "building $LANG_HOST" "1-3 min" "$tmp/lang.log" \
      build_in "$tmp/lang" "$tmp/$LANG_HOST" "$LANG_NODEJS" "$ver" "$gomod" "$langmod" -- \
      "$LANG_NODEJS@$lang_ver" "$PKG@v$ver" "$SDK@v$ver" || lang_ver=
  fi
  if [ -z "$lang_ver" ]; then
    [ -f "$vendored_lang/main.go" ] || die "$LANG_HOST is not served by the Go module proxy and $vendored_lang is missing"
    log "building $LANG_HOST from $vendored_lang (the Go module proxy does not serve it): usually 1-3 minutes"
    with_progress "building $LANG_HOST" "1-3 min" "$tmp/lang.log" build_vendored_lang "$tmp/$LANG_HOST" || {
      scrub <"$tmp/lang.log" | tail -n 20 >&2
      die "building $LANG_HOST from $vendored_lang failed (log above)"
    }
  fi
  mv -f "$tmp/$LANG_HOST" "$dir/$LANG_HOST"
  log "built $LANG_HOST in $(($(date +%s) - start))s"
fi

# 7. The dynamic-provider plugin: a launcher script that ships in @pulumi/pulumi. It resolves the
#    SDK from the folder the engine starts it in (the project folder), so one copy serves any clone.
if [ ! -x "$dir/$DYNAMIC_PLUGIN" ]; then
  shipped="$repo_root/node_modules/@pulumi/pulumi/$DYNAMIC_PLUGIN"
  [ -f "$shipped" ] || die "$shipped is missing: run 'npm ci' first"
  cp "$shipped" "$dir/$DYNAMIC_PLUGIN"
  chmod 755 "$dir/$DYNAMIC_PLUGIN"
fi

announce "$dir"
