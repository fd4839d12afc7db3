"""The README stays true: every setting is documented, CI runs exactly the README's test command."""

from __future__ import annotations

from pathlib import Path

from qwen_lsp.server.cli.config_reference import markdown_table, setting_rows

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def test_settings_table_is_current():
    assert markdown_table() in README, "regenerate the README settings table from qwen_lsp.server.cli.config_reference"
    for name, _, _ in setting_rows():
        assert f"`{name}`" in README


def test_ci_runs_the_readme_test_command():
    command = "bash tests/run.sh"
    assert f"\n{command}\n" in README
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert ci[-1] == command


def test_sample_location_in_the_newcomer_command_exists():
    lines = (ROOT / "tests" / "fixtures" / "sample.py").read_text().split("\n")
    assert "tests/fixtures/sample.py:14:5" in README
    assert lines[13] == "    " and lines[12].strip().startswith('"""')
