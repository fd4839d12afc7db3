#!/usr/bin/env bash
# Builds the VS Code extension: npm deps (from the lockfile), tsc type check, esbuild bundle, vsce package.
# Output: editors/vscode/qwen-lsp-<version>.vsix (path printed on the last line). The package carries the server's
# wheel, built from this checkout (server/qwen_lsp-*.whl): "Qwen: Install server" installs it by default.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false

stamp="node_modules/.installed-$(sha256sum package-lock.json | cut -c1-16)"
if [ ! -e "$stamp" ]; then
  npm ci --loglevel=error
  touch "$stamp"
fi
version="$(node -p 'require("./package.json").version')"
vsix="qwen-lsp-$version.vsix"
repo="$(cd ../.. && pwd)"
server_sources=("$repo/pyproject.toml" "$repo/README.md" "$repo/LICENSE" "$repo/server" "$repo/context" "$repo/clients")
# Up to date: nothing the package (or the server wheel in it) is made from is newer than it.
if [ -e "$vsix" ] && ls server/qwen_lsp-*.whl >/dev/null 2>&1 && [ -z "$(find src package.json package-lock.json tsconfig.json build.sh README.md .vscodeignore "${server_sources[@]}" -newer "$vsix" -not -path '*/__pycache__*' -print -quit)" ]; then
  echo "$PWD/$vsix"
  exit 0
fi
# The server's wheel (pure Python, no dependencies bundled: pip fetches them from the user's index at install time).
# `pip wheel` needs nothing beyond pip; the build backend (setuptools) comes from pip's cache or index.
python="${PYTHON:-$(command -v python3 || command -v python)}"
# Built from a copy of the sources: no build/ or *.egg-info left in the checkout, no stale build/lib files in the wheel.
src_copy="$(mktemp -d)"
trap 'rm -rf "$src_copy"' EXIT
cp -r "${server_sources[@]}" "$src_copy/"
find "$src_copy" -name __pycache__ -prune -exec rm -rf {} +
rm -rf server && mkdir -p server
"$python" -m pip wheel --no-deps --quiet --disable-pip-version-check -w server "$src_copy" >&2
ls server/qwen_lsp-*.whl >/dev/null
npx --no-install tsc -p . --noEmit
npx --no-install esbuild src/extension.ts --bundle --platform=node --format=cjs --target=node20 \
  --external:vscode --minify --sourcemap=external --outfile=out/extension.js --log-level=warning
# The extension is bundled (no node_modules in the package). It declares the inlineCompletionsAdditions API
# proposal: VS Code uses it (shown / partially accepted events) only when started with
# --enable-proposed-api qwen-lsp.qwen-lsp; everything else works without it.
npx --no-install vsce package --no-dependencies --skip-license --allow-missing-repository \
  --out "$vsix" >&2
echo "$PWD/$vsix"
