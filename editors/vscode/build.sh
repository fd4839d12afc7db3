#!/usr/bin/env bash
# Builds the VS Code extension: npm deps (from the lockfile), tsc type check, esbuild bundle, vsce package.
# Output: editors/vscode/qwen-lsp-<version>.vsix (path printed on the last line).
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
# Up to date: nothing the package is made from is newer than it.
if [ -e "$vsix" ] && [ -z "$(find src package.json package-lock.json tsconfig.json build.sh README.md .vscodeignore -newer "$vsix" -print -quit)" ]; then
  echo "$PWD/$vsix"
  exit 0
fi
npx --no-install tsc -p . --noEmit
npx --no-install esbuild src/extension.ts --bundle --platform=node --format=cjs --target=node20 \
  --external:vscode --minify --sourcemap=external --outfile=out/extension.js --log-level=warning
# The extension is bundled (no node_modules in the package). It declares the inlineCompletionsAdditions API
# proposal: VS Code uses it (shown / partially accepted events) only when started with
# --enable-proposed-api qwen-lsp.qwen-lsp; everything else works without it.
npx --no-install vsce package --no-dependencies --skip-license --allow-missing-repository \
  --out "$vsix" >&2
echo "$PWD/$vsix"
