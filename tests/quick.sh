#!/usr/bin/env bash
# The fast loop while working: the static checks (tests/checks.sh), then every test except the real-model, the
# real-editor and the slow ones. Installs nothing: it uses the existing venv (VENV, default <repo>/.venv).
#   bash tests/quick.sh [pytest args]      e.g. bash tests/quick.sh -k prompt
# The full run, with everything installed first: bash tests/run.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="${VENV:-$ROOT/.venv}"
log() { printf '[tests/quick] %s\n' "$*" >&2; }
SECONDS=0

if [ ! -x "$VENV/bin/python" ]; then
  log "no venv at $VENV: run \`bash tests/run.sh\` once (it creates it), or set VENV"
  exit 1
fi
if ! VENV="$VENV" bash "$ROOT/tests/checks.sh"; then
  log "the static checks failed (above)"
  exit 1
fi
log "checks took ${SECONDS}s; running the tests"
status=0
"$VENV/bin/python" -m pytest -q -m "not real_model and not editor and not slow" "$@" || status=$?
log "done in ${SECONDS}s"
exit "$status"
