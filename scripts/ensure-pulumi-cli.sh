#!/usr/bin/env bash
# Prints (as the last line of stdout) a directory holding a working `pulumi` CLI and, when it could
# be built, the Node.js language host `pulumi-language-nodejs` next to it.
#
# The usual installs of the CLI (install script, release archives, the npm package that downloads at
# run time) cannot work on machines that reach only package registries, so when no usable `pulumi`
# is on PATH this builds it from its Go module sources and caches it outside the repository:
#   ${DEC_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/devops-entra-connect}/pulumi-v<version>/bin/
# The first build takes about 5-10 minutes on 2 cores and fills about 1.6 GB of the shared Go module
# cache (`go env GOMODCACHE`) and 1.7 GB of the Go build cache (`go env GOCACHE`); the binary is about
# 120 MB. Later runs take well under a second.
#
# Usage:   export PATH="$(scripts/ensure-pulumi-cli.sh):$PATH"
# Env:
#   DEC_BUILD_PULUMI=1      ignore a `pulumi` already on PATH and use (or build) the cached one.
#   PULUMI_CLI_VERSION=X    wanted version (default: @pulumi/pulumi in package-lock.json). When the
#                           Go module source of X cannot be downloaded, the newest served version
#                           below it is used (a CLI a few minor versions older than the SDK is fine).
#   PULUMI_LANGUAGE_NODEJS_VERSION=V
#                           pseudo-version (v3.0.0-<yyyymmddhhmmss>-<commit12>) or commit of module
#                           github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3, for
#                           when the commit of the sdk/v<version> tag cannot be found automatically.
#   DEC_CACHE_DIR           cache root (shared with scripts/ensure-node.sh).
# Progress goes to stderr; only the directory goes to stdout. Remove the cache dir to rebuild.
set -euo pipefail

PKG=github.com/pulumi/pulumi/pkg/v3
SDK=github.com/pulumi/pulumi/sdk/v3
LANG_NODEJS=github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3
VERSION_PKG=github.com/pulumi/pulumi/sdk/v3/go/common/version

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(dirname "$script_dir")

log() { printf 'ensure-pulumi-cli: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
# Go's errors quote the addresses it fetched from; keep only the module paths and the reason.
scrub() { sed -E 's#[A-Za-z][A-Za-z0-9+.-]*://[^/[:space:]]+#<module source>#g'; }
works() { [ -x "$1" ] && "$1" version >/dev/null 2>&1; }

# 1. A CLI that users and pipelines already have.
if [ "${DEC_BUILD_PULUMI:-}" != 1 ] && command -v pulumi >/dev/null 2>&1 && pulumi version >/dev/null 2>&1; then
  log "using pulumi $(pulumi version 2>/dev/null) found on PATH"
  dirname "$(command -v pulumi)"
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
# Resolution of a wanted version to the version actually built, recorded after a successful build so
# that cached runs need no network.
resolved_file="$cache_root/pulumi-resolved-v$want"

lang_note() {
  log "note: no pulumi-language-nodejs in $1 ($2)."
  log "      'pulumi preview/up' on a project folder cannot run Node.js programs with this CLI;"
  log "      drive programs through the Automation API inline mode (LocalWorkspace with a program function)."
}

cached_dir() {
  local v dir
  v=$want
  [ -f "$resolved_file" ] && v=$(cat "$resolved_file")
  dir="$cache_root/pulumi-v$v/bin"
  if works "$dir/pulumi"; then
    echo "$dir"
  fi
}

# Serialise concurrent runs (parallel test jobs) on one cache.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$cache_root/.pulumi-cli.lock"
  flock 9
fi

dir=$(cached_dir)
if [ -n "$dir" ] && { [ -x "$dir/pulumi-language-nodejs" ] || [ -z "${PULUMI_LANGUAGE_NODEJS_VERSION:-}" ]; }; then
  if [ ! -x "$dir/pulumi-language-nodejs" ]; then
    lang_note "$dir" "$(cat "$dir/.no-language-nodejs" 2>/dev/null || echo 'not built')"
  fi
  log "using cached pulumi $("$dir/pulumi" version 2>/dev/null)"
  echo "$dir"
  exit 0
fi

# 3. Go.
if ! command -v go >/dev/null 2>&1; then
  [ -x /usr/local/go/bin/go ] && PATH="/usr/local/go/bin:$PATH"
fi
command -v go >/dev/null 2>&1 || die "Go is not installed (needed to build the Pulumi CLI from its module sources), and no working 'pulumi' is on PATH"

tmp=$(mktemp -d "$cache_root/.pulumi-build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

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

if [ -z "$dir" ]; then
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

  out="$cache_root/pulumi-v$ver"
  dir="$out/bin"
  if works "$dir/pulumi"; then
    log "using cached pulumi $("$dir/pulumi" version 2>/dev/null)"
  else
    # 5. Build the CLI in a throwaway module.
    log "building pulumi v$ver from Go module sources: this takes several minutes on 2 cores (once; cached in $out)"
    start=$(date +%s)
    gomod=$(cd "$tmp" && go list -m -f '{{.GoMod}}' "$PKG@v$ver")
    mkdir -p "$out"
    (build_in "$tmp/cli" "$tmp/pulumi" "$PKG/cmd/pulumi" "$ver" "$gomod" -- "$PKG/cmd/pulumi@v$ver" "$SDK@v$ver") >"$tmp/cli.log" 2>&1 || {
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

# 6. The Node.js language host, if its module can be had. It has no tags of its own: it needs the
#    pseudo-version of the commit tagged sdk/v<ver>.
if [ ! -x "$dir/pulumi-language-nodejs" ]; then
  reason=
  pv=
  pseudo=
  want_lang=${PULUMI_LANGUAGE_NODEJS_VERSION:-}
  if [ -n "$want_lang" ]; then
    pv=$want_lang
  else
    hash=$(mod_field "$SDK@v$ver" Hash || true)
    if [ -n "$hash" ]; then
      pv=$hash
    else
      reason="the commit of tag sdk/v$ver is unknown (the module source gives no origin); set PULUMI_LANGUAGE_NODEJS_VERSION"
    fi
  fi
  if [ -n "$pv" ]; then
    # A commit resolves through `go list` when the source allows queries; else build the pseudo-version.
    lang_ver=$(cd "$tmp" && go list -m -f '{{.Version}}' "$LANG_NODEJS@$pv" 2>"$tmp/lang-resolve.log") || lang_ver=
    if [ -z "$lang_ver" ] && [[ "$pv" =~ ^[0-9a-f]{12,40}$ ]]; then
      # The tag's commit time, as a pseudo-version writes it.
      ts=$(cd "$tmp" && go list -m -f '{{.Time.UTC.Format "20060102150405"}}' "$SDK@v$ver" 2>/dev/null) || ts=
      if [ -n "$ts" ]; then
        pseudo="v3.0.0-$ts-${pv:0:12}"
        lang_ver=$(cd "$tmp" && go list -m -f '{{.Version}}' "$LANG_NODEJS@$pseudo" 2>>"$tmp/lang-resolve.log") || lang_ver=
      fi
    fi
    if [ -z "$lang_ver" ]; then
      reason="$LANG_NODEJS@$pv${pseudo:+ (or $pseudo)} is not served: $(grep -v '^[[:space:]]*$' "$tmp/lang-resolve.log" | tail -n2 | scrub | tr '\n\t' '  ')"
    else
      log "building pulumi-language-nodejs $lang_ver (sdk v$ver): a few more minutes"
      start=$(date +%s)
      langmod=$(cd "$tmp" && go list -m -f '{{.GoMod}}' "$LANG_NODEJS@$lang_ver")
      gomod=$(cd "$tmp" && go list -m -f '{{.GoMod}}' "$PKG@v$ver")
      if (build_in "$tmp/lang" "$tmp/pulumi-language-nodejs" "$LANG_NODEJS" "$ver" "$gomod" "$langmod" -- \
        "$LANG_NODEJS@$lang_ver" "$PKG@v$ver" "$SDK@v$ver") >"$tmp/lang.log" 2>&1; then
        mv -f "$tmp/pulumi-language-nodejs" "$dir/pulumi-language-nodejs"
        rm -f "$dir/.no-language-nodejs"
        log "built pulumi-language-nodejs in $(($(date +%s) - start))s"
      else
        scrub <"$tmp/lang.log" | tail -n 15 >&2
        reason="building $LANG_NODEJS@$lang_ver failed (log above)"
      fi
    fi
  fi
  if [ -n "$reason" ]; then
    echo "$reason" >"$dir/.no-language-nodejs"
    lang_note "$dir" "$reason"
  fi
fi

log "pulumi $("$dir/pulumi" version 2>/dev/null) ready"
echo "$dir"
