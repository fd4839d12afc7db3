"""Parsing instruct-model answers into code (pure functions), with answers recorded from real chat models."""

from __future__ import annotations

from pathlib import Path

import pytest

from qwen_lsp.server.actions.answers import (
    AnswerError,
    code_blocks,
    covered_after,
    covered_before,
    extract_code,
    extract_markdown,
    fit_to_selection,
    replacement_for,
    strip_thinking,
)
from qwen_lsp.server.actions.syntax import drop_repeated_blocks, parseable_prefix, syntax_error


def test_fenced_block_with_prose_around_it() -> None:
    answer = "Here is the refactored code:\n\n```python\ndef total(xs):\n    return sum(xs)\n```\n\nThis uses sum()."
    assert extract_code(answer, "python") == "def total(xs):\n    return sum(xs)\n"


def test_block_in_the_requested_language_wins_over_others() -> None:
    answer = "```bash\npip install x\n```\nThen:\n```py\nimport x\n```"
    assert extract_code(answer, "python") == "import x\n"


def test_longest_closed_block_when_no_language_tag_matches() -> None:
    answer = "```\na = 1\n```\n```\nb = 2\nc = 3\n```"
    assert extract_code(answer, "go") == "b = 2\nc = 3\n"


def test_unclosed_fence_runs_to_the_end() -> None:
    answer = "Sure.\n```python\ndef f():\n    return 1\n"
    assert extract_code(answer, "python") == "def f():\n    return 1\n"


def test_longer_fence_keeps_inner_backticks() -> None:
    answer = "````markdown\nUse ```code``` like this\n```\nx\n```\n````"
    blocks = code_blocks(answer)
    assert len(blocks) == 1 and blocks[0].code == "Use ```code``` like this\n```\nx\n```\n"


def test_tilde_fences_and_chat_tokens() -> None:
    assert extract_code("~~~js\nlet a = 1;\n~~~<|im_end|>", "javascript") == "let a = 1;\n"


def test_no_fence_drops_leading_and_trailing_prose_only() -> None:
    answer = "Here is the improved version:\n\ndef f(a):\n    return a * 2\n\nThis version is shorter and clearer."
    assert extract_code(answer, "python") == "def f(a):\n    return a * 2"


def test_code_lines_that_look_like_sentences_are_kept() -> None:
    assert extract_code("class Point:\n    x: int", "python") == "class Point:\n    x: int"


def test_thinking_text_never_reaches_the_code() -> None:
    answer = "<think>I could write ```python\nrm()\n``` but no.</think>\n```python\nkeep()\n```"
    assert extract_code(answer, "python") == "keep()\n"
    # A template that opens the thinking block itself: only the closing tag is in the answer.
    assert extract_code("plan: use rm()\n</think>\n```python\nkeep()\n```", "python") == "keep()\n"


def test_unfinished_thinking_is_no_answer() -> None:
    assert strip_thinking("<think>still thinking about ```python\nx\n```") == ""
    with pytest.raises(AnswerError):
        extract_code("<think>still thinking", "python")


def test_empty_answers_are_clear_errors() -> None:
    with pytest.raises(AnswerError, match="no code"):
        extract_code("```python\n```", "python")
    with pytest.raises(AnswerError, match="empty"):
        extract_markdown("<think>x</think>\n  ")


def test_markdown_keeps_its_structure() -> None:
    assert extract_markdown("<think>a</think>\n## What it does\n\n- sums `xs`\n") == "## What it does\n\n- sums `xs`"


def test_indentation_restored_for_a_method() -> None:
    original = "    def area(self):\n        return self.w*self.h\n"
    assert fit_to_selection("def area(self):\n    return self.w * self.h", original) == (
        "    def area(self):\n        return self.w * self.h\n"
    )


def test_trailing_newline_follows_the_selection() -> None:
    assert fit_to_selection("x = 1\n\n", "x=1") == "x = 1"
    assert fit_to_selection("x = 1", "x=1\n") == "x = 1\n"


def apply(answer: str, source: str, selection: str) -> str:
    """What the editor ends up with when ``selection`` of ``source`` is replaced using ``answer``."""
    start = source.index(selection)
    before, after = source[:start], source[start + len(selection) :]
    replacement = replacement_for(answer, "python", selection, before, after)
    return before[: len(before) - replacement.before_chars] + replacement.text + after[replacement.after_chars :]


def test_answer_covering_the_code_after_the_selection_replaces_it_instead_of_duplicating() -> None:
    source = "import os\n\nclass A:\n    def run(self):\n        print(1)\n\n\ndef main():\n    A().run()\n"
    answer = "```python\n    def run(self):\n        print(2)\n\n\ndef main():\n    A().run()\n```"
    assert apply(answer, source, "    def run(self):\n        print(1)\n") == source.replace("print(1)", "print(2)")


def test_a_single_repeated_line_far_from_the_selection_is_not_an_anchor() -> None:
    before = "x = 1\n\ndef f():\n    pass\n\n"
    # "x = 1" also ends the model's code, by chance: only the line right before the selection could anchor alone.
    assert covered_before("x = 1\ny = 2\n", before, "y=2\n") == 0
    assert covered_before("    pass\ny = 2\n", "def f():\n    pass\n", "y=2\n") == len("    pass\n")
    assert covered_after("y = 2\nz = 3\n", "\n\nw = 0\nz = 3\n", "y=2\n") == 0  # not the first line after it
    assert covered_after("y = 2\nz = 3\n", "\n\nz = 3\n", "y=2\n") == len("\n\nz = 3\n")
    assert covered_before("y = 2\n", before, "y=2\n") == 0


# Real answers of Qwen2.5-Coder-0.5B-Instruct (Q4_K_M, greedy) to the action prompts for the cursor in
# Stats.average: it repeats the class around the method, and the docstring answer documents __init__ too.
STATS = (
    "class Stats:\n    def __init__(self, values):\n        self.values = values\n\n"
    "    def average(self):\n        total = 0\n        for v in self.values:\n            total = total + v\n"
    "        return total / len(self.values)\n"
)
AVERAGE = STATS[STATS.index("    def average") :]
RECORDED_REFACTOR = (
    "```python\n"
    "class Stats:\n"
    "    def __init__(self, values):\n"
    "        self.values = values\n"
    "\n"
    "    def average(self):\n"
    "        total = 0\n"
    "        for v in self.values:\n"
    "            total += v\n"
    "        return total / len(self.values)\n"
    "```\n"
    "\n"
    "This code is more readable and structured by introducing a method `average` that calculates the "
    "average of the values in the list. The method uses a loop to iterate over each value, adds it to the"
    " total, and then divides the total by the number of elements in the list. This approach makes the "
    "code easier to understand and maintain."
)
RECORDED_DOCSTRING = (
    "```python\n"
    "class Stats:\n"
    "    def __init__(self, values):\n"
    '        """\n'
    "        Initialize a new Stats object with a list of values.\n"
    "\n"
    "        Parameters:\n"
    "        values (list): A list of numerical values.\n"
    '        """\n'
    "        self.values = values\n"
    "\n"
    "    def average(self):\n"
    '        """\n'
    "        Calculate the average of the values in the stats object.\n"
    "\n"
    "        Returns:\n"
    "        float: The average value.\n"
    '        """\n'
    "        total = 0\n"
    "        for v in self.values:\n"
    "            total = total + v\n"
    "        return total / len(self.values)\n"
    "```"
)


def test_recorded_refactor_answer_repeating_the_class() -> None:
    result = apply(RECORDED_REFACTOR, STATS, AVERAGE)
    assert result == STATS.replace("total = total + v", "total += v")
    assert result.count("class Stats") == 1


def test_recorded_docstring_answer_documenting_more_than_the_selection() -> None:
    result = apply(RECORDED_DOCSTRING, STATS, AVERAGE)
    assert result.count("class Stats") == 1 and result.count("def average") == 1
    assert result.startswith(
        'class Stats:\n    def __init__(self, values):\n        """\n        Initialize a new Stats'
    )
    assert "        Calculate the average of the values in the stats object." in result
    assert result.endswith("        return total / len(self.values)\n")


# A real answer of Qwen2.5-Coder-0.5B-Instruct (local llama.cpp, greedy, no repetition penalty) to "Write tests"
# for stats.mean, cut off at max_tokens=512 while looping on the same two tests.
RECORDED_TESTS_CUT_OFF = (
    "```python\n"
    "import pytest\n"
    "\n"
    "def test_mean():\n"
    "    assert mean([1, 2, 3, 4, 5]) == 3.0\n"
    "\n"
    "def test_mean_empty():\n"
    "    assert mean([]) == 0.0\n"
    "\n"
    "def test_mean_single_value():\n"
    "    assert mean([10]) == 10.0\n"
    "\n"
    "def test_mean_large_values():\n"
    "    assert mean([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) == 5.5\n"
    "\n"
    "def test_mean_zero():\n"
    "    assert mean([0, 0, 0, 0, 0]) == 0.0\n"
    "\n"
    "def test_mean_negative_values():\n"
    "    assert mean([-1, -2, -3, -4, -5]) == -3.0\n"
    "\n"
    "def test_mean_zero_values():\n"
    "    assert mean([0, 0, 0, 0, 0]) == 0.0\n"
    "\n"
    "def test_mean_negative_values():\n"
    "    assert mean([-1, -2, -3, -4, -5]) == -3.0\n"
    "\n"
    "def test_mean_zero_values():\n"
    "    assert mean([0, 0, 0, 0, 0]) == 0.0\n"
    "\n"
    "def test_mean_negative_values():\n"
    "    assert mean([-1, -2, -3, -4, -5]) == -3.0\n"
    "\n"
    "def test_mean_zero_values():\n"
    "    assert mean([0, 0, 0, 0, 0]) == 0.0\n"
    "\n"
    "def test_mean_negative_values():\n"
    "    assert mean([-1, -2, -3, -4, -5]) == -3.0\n"
    "\n"
    "def test_mean_zero_values():\n"
    "    assert mean([0, 0, 0, 0, 0]) == 0.0\n"
    "\n"
    "def test_mean_negative_values():\n"
    "    assert mean([-1, -2, -3, -4, -5]) == -3.0\n"
    "\n"
    "def test_mean_zero_values():\n"
    "    assert mean([0, 0, 0, 0, 0]) == 0.0\n"
    "\n"
    "def test_mean_negative_values():\n"
    "    assert mean([-1, -2, -3, -4, -5]) == -3.0\n"
    "\n"
    "def test_mean_zero_values():\n"
    "    assert mean([-1, -2, -3, -4, -5]) == -3.0\n"
    "\n"
    "def test_mean_zero_values():\n"
    "   "
)


def test_recorded_cut_off_tests_keep_complete_distinct_tests() -> None:
    code = parseable_prefix(Path("test_stats.py"), drop_repeated_blocks(extract_code(RECORDED_TESTS_CUT_OFF, "python")))
    assert code is not None and syntax_error(Path("test_stats.py"), code) is None
    names = [line.split("(")[0][4:] for line in code.split("\n") if line.startswith("def ")]
    assert names[:6] == [
        "test_mean",
        "test_mean_empty",
        "test_mean_single_value",
        "test_mean_large_values",
        "test_mean_zero",
        "test_mean_negative_values",
    ]
    assert code.count("def test_mean_negative_values():\n    assert mean([-1, -2, -3, -4, -5]) == -3.0") == 1


def test_python_syntax_is_checked_by_python() -> None:
    assert syntax_error(Path("a.py"), "def f():\n   ") == "line 2"  # tree-sitter would accept it
    assert syntax_error(Path("a.ts"), "function f( {\n}\n") == "line 1"
    assert syntax_error(Path("notes.txt"), "anything (") is None
