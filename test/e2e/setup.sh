#!/usr/bin/env bash
# One-time, idempotent install of what the e2e run needs: Debian packages, code-server (into a cache dir
# OUTSIDE the repo) and a seeded @vscode/ripgrep download cache so nothing is fetched beyond the npm registry
# and Debian apt. playwright-core and @vscode/vsce come from the project's own devDependencies.
set -euo pipefail
E2E_ROOT=${E2E_ROOT:-/tmp/modelvet-e2e}
CS_VERSION=4.100.3            # runs on Node 20; bundles VS Code 1.100.3
RG_PKG_VERSION=1.15.11        # @vscode/ripgrep version pinned in code-server 4.100.3's npm-shrinkwrap.json
RG_ASSET=ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz   # asset name @vscode/ripgrep's postinstall looks for
CS_BIN=$E2E_ROOT/cs/node_modules/.bin/code-server
mkdir -p "$E2E_ROOT"; cd "$E2E_ROOT"
t() { echo "[e2e setup +${SECONDS}s] $*"; }

if ! command -v rg >/dev/null || ! [ -x /usr/bin/chromium ] || ! dpkg -s libkrb5-dev libsecret-1-dev >/dev/null 2>&1; then
  t "apt packages"
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq ripgrep chromium libkrb5-dev libsecret-1-dev >/dev/null
fi

if [ -x "$CS_BIN" ] && "$CS_BIN" --version 2>/dev/null | grep -q "^$CS_VERSION"; then
  t "code-server $CS_VERSION already installed in $E2E_ROOT/cs"
  exit 0
fi

t "seed @vscode/ripgrep's download cache with Debian's rg (skips a download from outside the npm registry)"
export TMPDIR=$E2E_ROOT/tmp        # @vscode/ripgrep caches in os.tmpdir()/vscode-ripgrep-cache-<version>/
mkdir -p "$TMPDIR/vscode-ripgrep-cache-$RG_PKG_VERSION" rgseed
cp "$(command -v rg)" rgseed/rg
tar czf "$TMPDIR/vscode-ripgrep-cache-$RG_PKG_VERSION/$RG_ASSET" -C rgseed rg

t "npm install code-server@$CS_VERSION (native modules are built from source; takes a few minutes once)"
mkdir -p cs && cd cs
[ -f package.json ] || echo '{"name":"modelvet-e2e-code-server","private":true}' > package.json
# npm_config_yes: node-pty's postinstall runs `npx node-gyp`, which would otherwise wait for a confirmation.
# --unsafe-perm: code-server's postinstall requires npm_config_unsafe_perm=true when run as root.
npm_config_yes=true npm install --unsafe-perm --no-audit --no-fund "code-server@$CS_VERSION" > "$E2E_ROOT/npm-code-server.log" 2>&1 \
  || { tail -50 "$E2E_ROOT/npm-code-server.log"; exit 1; }
test -x node_modules/code-server/lib/vscode/node_modules/@vscode/ripgrep/bin/rg
t "done; code-server: $(du -sh "$E2E_ROOT/cs" | cut -f1)"
