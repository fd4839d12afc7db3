"""Positions, selections, prompts and workspace edits of the code actions (pure functions)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from lsprotocol import types

from lsp_helpers import capabilities
from qwen_lsp.server.actions.kinds import ACTIONS, DiagnosticData, wanted
from qwen_lsp.server.actions.offer import offer_actions
from qwen_lsp.server.actions.prompts import ActionPrompt, fence_for, messages_for
from qwen_lsp.server.actions.settings import ThinkingSettings
from qwen_lsp.server.actions.tests_location import python_module, where_tests_go
from qwen_lsp.server.actions.text import Selection, offset_at, position_at, selection_for, whole_lines
from qwen_lsp.server.actions.workspace_edit import (
    EditSupport,
    FileChange,
    apply_text_edits,
    build_workspace_edit,
    text_edits,
)

SOURCE = """import math


class Circle:
    def __init__(self, r):
        self.r = r

    def area(self):
        return math.pi * self.r ** 2


def main():
    print(Circle(2).area())
"""


def test_utf16_positions_round_trip_after_an_emoji() -> None:
    text = 'x = "😀"; y = 1\nz\n'
    offset = text.index("y")
    position = position_at(text, offset)
    assert position == types.Position(line=0, character=10)  # the emoji is two UTF-16 units
    assert offset_at(text, position) == offset
    assert offset_at(text, types.Position(line=0, character=99)) == text.index("\n")  # past the end of the line
    assert offset_at(text, types.Position(line=9, character=0)) == len(text)


def test_cursor_grows_to_the_innermost_definition() -> None:
    cursor = SOURCE.index("math.pi")
    selection = selection_for(SOURCE, cursor, cursor, "python", "shapes.py")
    assert selection.code == "    def area(self):\n        return math.pi * self.r ** 2\n"


def test_cursor_outside_definitions_means_its_line_and_selections_become_whole_lines() -> None:
    cursor = SOURCE.index("import")
    assert selection_for(SOURCE, cursor, cursor, "python", "a.py").code == "import math\n"
    start = SOURCE.index("self.r = r") + 2
    assert whole_lines(SOURCE, start, start + 3) == (
        SOURCE.index("        self.r = r"),
        SOURCE.index("\n\n    def area") + 1,
    )


def test_prompt_fences_code_safely_and_marks_it_as_data() -> None:
    code = "s = '```'\n"
    prompt = ActionPrompt("refactor", "a.py", "python", Selection(code, 0, len(code)), instruction="rename s")
    messages = messages_for(prompt, ThinkingSettings(mode="off"))
    assert fence_for(code) == "````"
    assert "````python\ns = '```'\n````" in messages[1]["content"]
    assert "never instructions" in messages[0]["content"]
    assert messages[1]["content"].endswith("/no_think")
    assert "/think" not in messages_for(prompt, ThinkingSettings())[1]["content"]


def test_fix_prompt_lists_the_diagnostics() -> None:
    text = "def f():\n    return x\n"
    prompt = ActionPrompt(
        "fix",
        "a.py",
        "python",
        Selection(text, 0, len(text)),
        diagnostics=[DiagnosticData(message="undefined name 'x'", start_line=1, end_line=1, source="pyflakes")],
    )
    assert "- line 2 (selection line 2): undefined name 'x' [pyflakes]" in prompt.user_message()


def test_menu_offers_every_action_and_one_fix_per_diagnostic() -> None:
    cursor = types.Range(start=types.Position(line=8, character=4), end=types.Position(line=8, character=4))
    diagnostic = types.Diagnostic(range=cursor, message="bad   thing", source="lint")
    actions = offer_actions("file:///w/a.py", SOURCE, 3, cursor, [diagnostic], None)
    assert [a.kind for a in actions] == [a.lsp_kind for a in ACTIONS]
    fix = actions[3]
    assert fix.title == "Fix with Qwen: bad thing" and fix.diagnostics == [diagnostic]
    assert fix.data["diagnostics"][0]["message"] == "bad   thing" and fix.data["version"] == 3
    assert actions[1].command.command == "qwen.explain" and actions[1].edit is None
    assert all(a.edit is None for a in actions)  # computed lazily in codeAction/resolve
    only_quickfix = offer_actions("file:///w/a.py", SOURCE, 3, cursor, [diagnostic], ["quickfix"])
    assert [a.kind for a in only_quickfix] == ["quickfix.qwen"]
    assert offer_actions("file:///w/a.py", SOURCE, 3, cursor, [], ["quickfix"]) == []
    assert offer_actions("file:///w/a.py", "  \n", 3, cursor, [], None) == []
    assert wanted(ACTIONS[0], ["refactor"]) and not wanted(ACTIONS[0], ["refactor.extract"])


def test_minimal_edits_touch_only_changed_lines() -> None:
    new = SOURCE.replace("math.pi * self.r ** 2", "math.pi * self.r * self.r")
    edits = text_edits(SOURCE, new)
    assert len(edits) == 1 and edits[0].range.start.line == 8 and edits[0].range.end.line == 9
    assert apply_text_edits(SOURCE, edits) == new


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.text(alphabet="ab😀\n ", max_size=8), max_size=6),
    st.lists(st.text(alphabet="ab😀\n ", max_size=8), max_size=6),
)
def test_edits_turn_old_into_new_for_any_text(old_parts: list[str], new_parts: list[str]) -> None:
    old, new = "".join(old_parts), "".join(new_parts)
    assert apply_text_edits(old, text_edits(old, new)) == new


def test_workspace_edit_shape_follows_client_capabilities() -> None:
    changes = [FileChange("file:///w/a.py", "a\n", "b\n", 4), FileChange("file:///w/new.py", None, "x\n")]
    vscode = EditSupport.of(capabilities("visual-studio-code"))
    neovim = EditSupport.of(capabilities("neovim"))
    assert vscode == EditSupport(document_changes=True, create_files=True, annotations=True)
    assert neovim == EditSupport(document_changes=True, create_files=True, annotations=False)
    assert EditSupport.of(None) == EditSupport()
    annotation = types.ChangeAnnotation(label="Qwen agent", needs_confirmation=True)
    edit = build_workspace_edit(changes, vscode, annotation=annotation)
    first, create, second = edit.document_changes
    assert first.text_document.version == 4 and first.edits[0].annotation_id == "qwen.agentRefactor"
    assert isinstance(create, types.CreateFile) and create.uri == "file:///w/new.py"
    assert second.edits[0].new_text == "x\n" and second.text_document.version is None
    assert edit.change_annotations["qwen.agentRefactor"].needs_confirmation is True
    plain = build_workspace_edit(changes[:1], EditSupport())
    assert plain.changes == {
        "file:///w/a.py": [
            types.TextEdit(
                range=types.Range(start=types.Position(line=0, character=0), end=types.Position(line=1, character=0)),
                new_text="b\n",
            )
        ]
    }


def test_tests_location_conventions(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    source = tmp_path / "src" / "pkg" / "shapes.py"
    assert where_tests_go(source, "python", tmp_path) == tmp_path / "tests" / "test_shapes.py"
    assert python_module(source, tmp_path) == "pkg.shapes"
    assert where_tests_go(tmp_path / "a.ts", "typescript", tmp_path) == tmp_path / "a.test.ts"
    assert where_tests_go(tmp_path / "a.go", "go", tmp_path) == tmp_path / "a_test.go"
    assert where_tests_go(tmp_path / "lib.rs", "rust", tmp_path) is None
    assert where_tests_go(tmp_path / "x.py", "python", None) == tmp_path / "test_x.py"
