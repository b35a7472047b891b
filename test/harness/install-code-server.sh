#!/bin/sh
# Installs code-server (VS Code's workbench + a real Node extension host) from the npm registry alone, so the
# integration and UI tests can run on a machine that cannot download desktop VS Code.
# Usage: sh test/harness/install-code-server.sh [--check]   (idempotent; prints the install folder; --check: exit 1 when
#   it is not installed yet, install nothing)
#   EDD_CS_VERSION   code-server version (default 4.100.3 = VS Code 1.100.3, the newest that runs on Node 20)
#   EDD_CS_HOME      cache folder this script owns (default ~/.cache/edd-code-server)
set -eu
VERSION=${EDD_CS_VERSION:-4.100.3}
CS_HOME=${EDD_CS_HOME:-$HOME/.cache/edd-code-server}
PREFIX=$CS_HOME/$VERSION
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=$PREFIX/node_modules/.bin/code-server
if [ -x "$BIN" ] && [ -f "$PREFIX/.complete" ]; then echo "$PREFIX"; exit 0; fi
# --check: only say (by the exit code) whether it is installed
if [ "${1:-}" = "--check" ]; then exit 1; fi

# Debian packages: chromium drives the workbench; rg replaces @vscode/ripgrep's GitHub download;
# libkrb5-dev and a compiler build VS Code's native modules against Node's headers.
need=""
for p in chromium ripgrep libkrb5-dev build-essential python3; do dpkg -s "$p" >/dev/null 2>&1 || need="$need $p"; done
if [ -n "$need" ]; then
  if [ "$(id -u)" != 0 ]; then echo "install-code-server: missing Debian packages:$need (run as root or apt-get install them)" >&2; exit 1; fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
fi

export TMPDIR=$CS_HOME/tmp
rm -rf "$PREFIX"; mkdir -p "$PREFIX" "$TMPDIR"
cd "$PREFIX"
npm init -y >/dev/null
# 1. fetch without install scripts: code-server's postinstall would reach github.com
npm install --no-audit --no-fund --ignore-scripts "code-server@$VERSION" >/dev/null
# 2. point git-hosted dependencies at registry tarballs; seed ripgrep's download cache with Debian's rg
node "$HERE/prepare-offline.js" "$PREFIX"
# 3. now run every install script (native modules build from source against Node's headers)
npm_config_yes=true npm_config_unsafe_perm=true npm rebuild --foreground-scripts >"$PREFIX/rebuild.log" 2>&1 \
  || { tail -40 "$PREFIX/rebuild.log" >&2; exit 1; }
XDG_CONFIG_HOME=$TMPDIR/xdg XDG_DATA_HOME=$TMPDIR/xdg "$BIN" --version >/dev/null
touch "$PREFIX/.complete"
echo "$PREFIX"
