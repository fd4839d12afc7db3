"""The shared test helpers (tests/lsp_helpers.py, ...) are importable from here too."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
