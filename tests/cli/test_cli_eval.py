"""``qwen-lsp eval`` as a subprocess: it indexes the repository under the user's privacy policy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

QWEN_LSP = str(Path(sys.executable).parent / "qwen-lsp")


def run_eval(root: Path, **settings: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QWEN_LSP_")}
    env.update(settings)
    done = subprocess.run(
        [QWEN_LSP, "eval", "--no-model", "--json", "--root", str(root)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_eval_leaves_out_the_files_of_the_users_secret_file_patterns(tmp_path: Path) -> None:
    (tmp_path / "geometry.py").write_text("def area_of_circle(radius):\n    return 3.14159 * radius * radius\n")
    (tmp_path / "report.py").write_text(
        "from geometry import area_of_circle\n\n\ndef describe(radius):\n"
        "    area = area_of_circle(radius)\n    return f'{area}'\n"
    )
    # the call in report.py (its definition in geometry.py), at each cursor position: after "(", before the name and
    # with its first characters typed
    assert run_eval(tmp_path)["cases"] == 3
    # geometry.py kept out by the user's pattern: not indexed, so no definition to look for and no case
    assert run_eval(tmp_path, QWEN_LSP_PRIVACY__SECRET_FILES='["geometry.py"]')["cases"] == 0
