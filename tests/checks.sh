#!/usr/bin/env bash
# The static checks, run by tests/run.sh before the tests and by tests/quick.sh:
#   ruff (lint and format) and mypy on the Python code, ESLint on the VS Code extension, luacheck on the Neovim plugin.
#   bash tests/checks.sh      # VENV defaults to <repo>/.venv (with the dev extra: ruff, mypy)
# Every check runs, so one run shows every problem; the script fails when any of them failed, naming them.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="${VENV:-$ROOT/.venv}"
log() { printf '[tests/checks] %s\n' "$*" >&2; }
failed=()
check() {
  local name=$1
  shift
  log "$name"
  "$@" || failed+=("$name")
}
missing() { log "$1"; return 1; }

check "ruff check" "$VENV/bin/ruff" check --quiet .
check "ruff format --check" "$VENV/bin/ruff" format --check --quiet .
# mypy cannot follow the editable install's folder mapping (server/ -> qwen_lsp.server): it reads the folders
# through links named as the installed packages (pyproject.toml: mypy_path = "build/typecheck").
mkdir -p build/typecheck/qwen_lsp
for package in server context clients; do ln -sfn "../../../$package" "build/typecheck/qwen_lsp/$package"; done
check "mypy" "$VENV/bin/mypy"
if [ -x editors/vscode/node_modules/.bin/eslint ]; then
  check "eslint (editors/vscode)" bash -c 'cd editors/vscode && npx --no-install eslint .'
else
  check "eslint (editors/vscode)" missing "editors/vscode/node_modules has no eslint: run \`npm ci\` in editors/vscode (tests/run.sh does)"
fi
if command -v luacheck >/dev/null; then
  check "luacheck (editors/nvim)" bash -c 'cd editors/nvim && luacheck --no-color --quiet .'
else
  check "luacheck (editors/nvim)" missing "luacheck is not installed: apt-get install lua-check (tests/run.sh does)"
fi

if ((${#failed[@]})); then
  log "FAILED: ${failed[*]}"
  exit 1
fi
log "all checks passed"
