#!/usr/bin/env bash
# End-to-end test in real VS Code: installs dist/modelvet.vsix into a fresh code-server profile, opens a
# generated workspace in headless Chromium and drives the UI (drive.mjs). Prints `E2E: N passed, N failed`.
# Needs `npm run package` first (the `test:e2e` script does it); runs setup.sh when code-server is missing.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
export E2E_ROOT=${E2E_ROOT:-/tmp/modelvet-e2e}
# A free port unless one is given, so two runs (or a leftover code-server) never collide.
PORT=${E2E_PORT:-$(node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")}
VSIX=${E2E_VSIX:-$ROOT/dist/modelvet.vsix}
CS_BIN=$E2E_ROOT/cs/node_modules/.bin/code-server
# E2E_MODE=trusted (default: Workspace Trust off, every scenario) or restricted (the folder opens in Restricted
# Mode with online settings in its .vscode/settings.json aimed at a local listener that must get zero requests).
MODE=${E2E_MODE:-trusted}
case "$MODE" in trusted|restricted) ;; *) echo "E2E_MODE must be trusted or restricted"; exit 2 ;; esac
export E2E_MODE=$MODE
ARTIFACTS=$HERE/artifacts/$MODE
PYTHON=${E2E_PYTHON:-${MODELVET_PYTHON:-/usr/bin/python3}}  # same interpreter variable as test/helpers/python.ts

[ -x "$CS_BIN" ] || bash "$HERE/setup.sh"
[ -f "$VSIX" ] || (cd "$ROOT" && npm run package)

mkdir -p "$E2E_ROOT"
RUN=$(mktemp -d "$E2E_ROOT/run-XXXXXX")
WS=$RUN/workspace
mkdir -p "$RUN/tmp" "$RUN/home" "$RUN/user-data/User" "$RUN/extensions"
rm -rf "$ARTIFACTS" && mkdir -p "$ARTIFACTS"
free_port() { node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
# code-server writes config.yaml, logs and sockets under HOME/XDG/TMPDIR: keep all of it inside the run dir.
CS_ENV=(env TMPDIR="$RUN/tmp" HOME="$RUN/home" XDG_CONFIG_HOME="$RUN/home/.config" XDG_DATA_HOME="$RUN/home/.local/share"
        XDG_CACHE_HOME="$RUN/home/.cache" XDG_RUNTIME_DIR="$RUN/tmp")

CS_PID=""
cleanup() {
  local rc=$?
  if [ -n "$CS_PID" ]; then
    # code-server runs in its own session (setsid): end its whole process group (extension host, language server).
    kill -TERM -- "-$CS_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$CS_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$CS_PID" 2>/dev/null || true
  fi
  cp -r "$RUN/user-data/logs" "$ARTIFACTS/code-server-logs" 2>/dev/null || true
  cp "$RUN/code-server.log" "$ARTIFACTS/" 2>/dev/null || true
  [ -n "${E2E_KEEP:-}" ] || rm -rf "$RUN"
  exit $rc
}
trap cleanup EXIT

echo "[e2e] run dir $RUN"
"${CS_ENV[@]}" "$CS_BIN" --user-data-dir "$RUN/user-data" --extensions-dir "$RUN/extensions" --install-extension "$VSIX" >"$RUN/install.log" 2>&1 \
  || { cat "$RUN/install.log"; echo "E2E: 0 passed, 1 failed"; exit 1; }
TRUST_FLAGS=(--disable-workspace-trust)
if [ "$MODE" = restricted ]; then
  TRUST_FLAGS=()
  # Workspace Trust on, no startup prompt: an unknown folder opens in Restricted Mode.
  node -e 'const fs=require("fs");const s=JSON.parse(fs.readFileSync(process.argv[1],"utf8"));Object.assign(s,{"security.workspace.trust.enabled":true,"security.workspace.trust.startupPrompt":"never","security.workspace.trust.banner":"always","security.workspace.trust.untrustedFiles":"open"});fs.writeFileSync(process.argv[2],JSON.stringify(s,null,2))' \
    "$HERE/settings.json" "$RUN/user-data/User/settings.json"
  export E2E_LISTENER_PORT=${E2E_LISTENER_PORT:-$(free_port)}
else
  # The provenance scenarios verify with a key from the user's settings (user scope: honoured in any workspace).
  mkdir -p "$RUN/keys"
  node "$ROOT/bin/modelvet.js" keygen --out "$RUN/keys/signer.pem" >/dev/null
  node -e 'const fs=require("fs");const s=JSON.parse(fs.readFileSync(process.argv[1],"utf8"));s["modelvet.signing.publicKey"]=process.argv[3];fs.writeFileSync(process.argv[2],JSON.stringify(s,null,2))' \
    "$HERE/settings.json" "$RUN/user-data/User/settings.json" "$RUN/keys/signer.pub.pem"
fi

cp -r "$HERE/workspace-template" "$WS"
if [ "$MODE" = restricted ]; then
  # What a hostile repository would ship: network on, both servers pointed at a host of its choosing.
  mkdir -p "$WS/.vscode"
  cat >"$WS/.vscode/settings.json" <<JSON
{ "modelvet.online.enabled": true, "modelvet.online.hubUrl": "http://127.0.0.1:$E2E_LISTENER_PORT",
  "modelvet.online.indexUrl": "http://127.0.0.1:$E2E_LISTENER_PORT/simple/" }
JSON
fi
if [ -d "$ROOT/test/fixtures/e2e-models" ]; then
  cp "$ROOT"/test/fixtures/e2e-models/* "$WS/"
else
  "$PYTHON" "$HERE/make_models.py" "$WS" >/dev/null
fi

if [ "$MODE" = trusted ]; then
  # Provenance and data scenarios (08–10): a signed model folder with a card that lacks front matter, and the
  # example's dataset with its planted trigger. Signed by the CLI from this checkout, before the editor starts.
  mkdir -p "$WS/signed-model"
  cp "$WS/benign.pt" "$WS/signed-model/model.pt"
  printf '{"architectures": ["TinyNet"], "model_type": "tiny"}\n' >"$WS/signed-model/config.json"
  printf '# Tiny model\n\nA model card without front matter.\n' >"$WS/signed-model/README.md"
  node "$ROOT/bin/modelvet.js" sign "$WS/signed-model" --key "$RUN/keys/signer.pem" >/dev/null
  cp "$ROOT/examples/ml-project/data/reviews.jsonl" "$WS/reviews.jsonl"
fi

T0=$(date +%s%N)
setsid "${CS_ENV[@]}" "$CS_BIN" --bind-addr "127.0.0.1:$PORT" --auth none --disable-telemetry --disable-update-check \
  "${TRUST_FLAGS[@]}" --disable-getting-started-override --disable-proxy \
  --user-data-dir "$RUN/user-data" --extensions-dir "$RUN/extensions" --ignore-last-opened \
  "$WS" >"$RUN/code-server.log" 2>&1 &
CS_PID=$!
for _ in $(seq 1 300); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.1; done
curl -sf -o /dev/null "http://127.0.0.1:$PORT/healthz" || { tail -30 "$RUN/code-server.log"; echo "E2E: 0 passed, 1 failed"; exit 1; }
echo "[e2e] code-server up after $(( ($(date +%s%N) - T0) / 1000000 )) ms"

set +e
node "$HERE/drive.mjs" "http://127.0.0.1:$PORT/?folder=$WS" "$WS" "$ARTIFACTS" | tee "$RUN/driver.log"
DRIVER_RC=${PIPESTATUS[0]}
set -e
PASSED=$(grep -c '^PASS ' "$RUN/driver.log" || true)
FAILED=$(grep -c '^FAIL ' "$RUN/driver.log" || true)
SKIPPED=$(grep -c '^SKIP ' "$RUN/driver.log" || true)
if [ "$DRIVER_RC" -ne 0 ] && [ "$FAILED" -eq 0 ]; then FAILED=1; echo "[e2e] driver exited with $DRIVER_RC"; fi
cp "$RUN/driver.log" "$ARTIFACTS/"
echo "[e2e] artifacts in $ARTIFACTS; total $(( ($(date +%s%N) - T0) / 1000000 )) ms"
[ "$SKIPPED" -eq 0 ] || echo "[e2e] $SKIPPED skipped (see SKIP lines above)"
echo "E2E ($MODE): $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
