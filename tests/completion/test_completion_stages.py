"""Pure-function tests of the completion pipeline stages."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qwen_lsp.clients.models.fim_templates import (
    CODELLAMA,
    CODESTRAL,
    DEEPSEEK_CODER,
    QWEN,
    STARCODER2,
    detect_template,
)
from qwen_lsp.context.base import Snippet
from qwen_lsp.server.completion.cache import CacheKey, CompletionCache
from qwen_lsp.server.completion.postprocess import postprocess
from qwen_lsp.server.completion.prefilter import decide
from qwen_lsp.server.completion.prompt import file_window, render_fim_prompt
from qwen_lsp.server.completion.request import CompletionRequest
from qwen_lsp.server.completion.stop import StopRules, cut_point


def rules(shape="line", line_prefix="x = ", suffix="\n", stops=QWEN.stop):
    return StopRules(stop_strings=stops, shape=shape, line_prefix=line_prefix, suffix=suffix)


# --- stop rules -------------------------------------------------------------------------------------------


def test_stop_string_cuts():
    assert cut_point("foo()<|endoftext|>junk", rules()) == 5


def test_single_line_stops_at_first_newline_after_content():
    assert cut_point("foo(1)\nbar()", rules()) == 6
    assert cut_point("foo(1)", rules()) is None


def test_block_stops_when_dedenting_past_the_block():
    text = "    total = 0\n    return total\ndef other():\n"
    cut = cut_point(text, rules(shape="block", line_prefix="", suffix="\n"))
    assert text[:cut] == "    total = 0\n    return total"


def test_block_stops_when_repeating_the_suffix():
    suffix = "\n\nif __name__ == '__main__':\n    main()\n"
    text = "    print('hi')\n\nif __name__ == '__main__':\n"
    cut = cut_point(text, rules(shape="block", line_prefix="", suffix=suffix))
    assert text[:cut].rstrip() == "    print('hi')"


def test_block_keeps_closing_brace_when_the_suffix_lacks_it():
    text = "    return a + b;\n}\nfunction next() {\n"
    cut = cut_point(text, rules(shape="block", line_prefix="", suffix=""))
    assert text[:cut] == "    return a + b;\n}"


# --- post-processing --------------------------------------------------------------------------------------


def test_fence_and_prose_dropped():
    assert postprocess("return a + b\n```\nThis function adds.", "    ", "\n") == "return a + b"


def test_suffix_overlap_trimmed_on_the_line():
    assert postprocess("a, b)", "print(", ")\n") == "a, b"


def test_trailing_lines_repeating_the_suffix_dropped():
    assert postprocess("x = 1\n    return x\n", "    ", "\n    return x\n") == "x = 1"


def test_completion_that_only_repeats_the_next_lines_is_empty():
    assert postprocess("return x", "    ", "return x\n") == ""


def test_indentation_written_again_is_dropped_unless_a_block_opens():
    assert postprocess("    return x", "    ", "\n", previous_line="    y = 2") == "return x"
    assert postprocess("    return x", "    ", "\n", previous_line="    if y:") == "    return x"
    assert postprocess("    return x", "    ", "\n") == "    return x"  # nothing known about the line before


def test_a_loop_repeating_the_line_above_or_its_own_last_line_is_cut():
    docstring = '    """The total price of all orders."""'
    looping = '"""The total price of all orders."""\n' + (docstring + "\n") * 5
    assert postprocess(looping, "    ", "\n", previous_line=docstring) == ""
    assert (
        postprocess("total = 0\n    total = 0\n    total = 0", "    ", "\n", previous_line="    x = 1") == "total = 0"
    )
    # short lines legitimately follow themselves
    assert postprocess("}\n}", "  ", "\n", previous_line="    }") == "}\n}"


def test_whitespace_only_is_empty():
    assert postprocess("   \n  ", "x = ", "\n") == ""


# --- cache ------------------------------------------------------------------------------------------------


def test_cache_exact_and_typed_ahead():
    cache = CompletionCache(capacity=2)
    cache.put(CacheKey("u", "def f(", ")"), "a, b")
    assert cache.get(CacheKey("u", "def f(", ")")) == "a, b"
    assert cache.get(CacheKey("u", "def f(a", ")")) == ", b"
    assert cache.get(CacheKey("u", "def f(x", ")")) is None
    assert cache.get(CacheKey("other", "def f(", ")")) is None


def test_cache_evicts_least_recently_used():
    cache = CompletionCache(capacity=2)
    for name in "abc":
        cache.put(CacheKey("u", name, ""), name.upper())
    assert cache.get(CacheKey("u", "a", "")) is None
    assert cache.get(CacheKey("u", "c", "")) == "C"


# --- prompt rendering (golden per family) -----------------------------------------------------------------

SNIPPET = Snippet(
    uri="file:///r/util.py",
    path="util.py",
    text="def helper(x):\n    return x * 2",
    start_line=0,
    end_line=2,
    source="definition",
    score=1.0,
    tokens=10,
)


def window(prefix="def f():\n    return ", suffix="\n"):
    text = prefix + suffix
    return file_window(text, len(prefix), 1000, 1000)


def test_qwen_repo_level_prompt():
    prompt = render_fim_prompt(QWEN, window(), "app.py", "python", [SNIPPET], repo_name="r")
    assert prompt.text == (
        "<|repo_name|>r\n<|file_sep|>util.py\ndef helper(x):\n    return x * 2\n<|file_sep|>app.py\n"
        "<|fim_prefix|>def f():\n    return <|fim_suffix|>\n<|fim_middle|>"
    )
    controls = [p.text for p in prompt.pieces if p.control]
    assert controls == [
        "<|repo_name|>",
        "<|file_sep|>",
        "<|file_sep|>",
        "<|fim_prefix|>",
        "<|fim_suffix|>",
        "<|fim_middle|>",
    ]


def test_qwen_repo_level_prompt_shows_each_file_once() -> None:
    """The model was trained on repositories where every file appears once: pieces of one file share a header, in
    the order given; a piece another one already contains is not repeated."""
    outline = Snippet("file:///r/util.py", "util.py", "class Box:\n    def put(self, x): ...", 0, 9, "outline", 0.5)
    body = Snippet("file:///r/util.py", "util.py", "def helper(x):\n    return x * 2", 20, 22, "definition", 0.9)
    again = Snippet("file:///r/util.py", "util.py", "    return x * 2", 21, 22, "similar", 0.4)
    other = Snippet("file:///r/other.py", "other.py", "LIMIT = 3", 0, 1, "definition", 0.3)
    prompt = render_fim_prompt(QWEN, window(), "app.py", "python", [other, outline, body, again], repo_name="r")
    assert prompt.text.startswith(
        "<|repo_name|>r\n<|file_sep|>other.py\nLIMIT = 3\n"
        "<|file_sep|>util.py\nclass Box:\n    def put(self, x): ...\ndef helper(x):\n    return x * 2\n"
        "<|file_sep|>app.py\n<|fim_prefix|>"
    )
    assert prompt.text.count("<|file_sep|>") == 3


def test_qwen_prompt_without_context_is_plain_fim():
    assert (
        render_fim_prompt(QWEN, window(), "app.py").text
        == "<|fim_prefix|>def f():\n    return <|fim_suffix|>\n<|fim_middle|>"
    )


def test_starcoder2_repo_level_prompt():
    prompt = render_fim_prompt(STARCODER2, window(), "app.py", "python", [SNIPPET], repo_name="r")
    assert prompt.text.startswith("<repo_name>r\n<file_sep>util.py\n")
    assert prompt.text.endswith("<file_sep>app.py\n<fim_prefix>def f():\n    return <fim_suffix>\n<fim_middle>")


def test_deepseek_prompt_has_path_comment_header():
    prompt = render_fim_prompt(DEEPSEEK_CODER, window(), "app.py", "python", [SNIPPET])
    assert prompt.text == (
        "<｜fim▁begin｜># Path: util.py\n# def helper(x):\n#     return x * 2\ndef f():\n    return "
        "<｜fim▁hole｜>\n<｜fim▁end｜>"
    )


def test_codellama_prompt():
    assert render_fim_prompt(CODELLAMA, window(), "app.py").text == "<PRE> def f():\n    return  <SUF>\n <MID>"


def test_codestral_puts_the_suffix_first():
    assert render_fim_prompt(CODESTRAL, window(), "app.py").text == "[SUFFIX]\n[PREFIX]def f():\n    return "


def test_backends_that_heal_tokens_get_the_typed_line_after_the_middle_marker():
    prompt = render_fim_prompt(QWEN, window(), "app.py", typed_line_in_middle=True)
    assert prompt.text == "<|fim_prefix|>def f():\n<|fim_suffix|>\n<|fim_middle|>    return "
    assert prompt.pieces[-1].text == "    return " and not prompt.pieces[-1].control
    # what keeps llama.cpp's KV cache valid while typing: the next character's prompt extends this one
    before = render_fim_prompt(
        QWEN, window("def f():\n    ret", "\n\nprint(f())\n"), "app.py", typed_line_in_middle=True
    )
    after = render_fim_prompt(
        QWEN, window("def f():\n    retu", "\n\nprint(f())\n"), "app.py", typed_line_in_middle=True
    )
    assert after.text.startswith(before.text)
    # suffix-first families already end with the prefix
    assert (
        render_fim_prompt(CODESTRAL, window(), "app.py", typed_line_in_middle=True).text
        == "[SUFFIX]\n[PREFIX]def f():\n    return "
    )


def test_user_text_with_a_marker_stays_user_text():
    prompt = render_fim_prompt(QWEN, window(prefix="s = '<|fim_prefix|>'\n"), "app.py")
    user = [p for p in prompt.pieces if not p.control]
    assert any("<|fim_prefix|>" in p.text for p in user)


def test_detect_template_from_vocabulary():
    assert detect_template(["<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "a"]) is QWEN
    assert detect_template(["<fim_prefix>", "<fim_suffix>", "<fim_middle>"]) is STARCODER2
    assert detect_template(["hello", "world"]) is None


@given(st.text(alphabet="ab \n", max_size=200), st.integers(min_value=0, max_value=200))
def test_file_window_is_contiguous_and_contains_the_cursor(text, cursor):
    cursor = min(cursor, len(text))
    win = file_window(text, cursor, 50, 30)
    assert text[win.prefix_start : cursor] == win.prefix
    assert text[cursor : win.suffix_end] == win.suffix
    assert cursor - win.prefix_start <= 50
    assert win.prefix_start == 0 or text[win.prefix_start - 1] == "\n" or cursor - win.prefix_start >= 50 * 3 // 4


def test_file_window_start_stays_put_while_typing():
    text = "".join(f"line {i} = {i}\n" for i in range(2000))
    starts = {file_window(text, offset, 6000, 300).prefix_start for offset in range(20000, 20400)}
    assert len(starts) <= 2  # moves at most once in 400 keystrokes


# --- prefilter --------------------------------------------------------------------------------------------


def request(text, cursor_marker="|", language="python", path="app.py"):
    offset = text.index(cursor_marker)
    return CompletionRequest(
        uri="file:///r/" + path, path=path, language_id=language, text=text.replace(cursor_marker, ""), offset=offset
    )


@pytest.mark.parametrize(
    "text, kind",
    [
        ("def f():\n    |\n", "block"),
        ("value = compu|\n", "line"),
        ("value = comp|ute()\n", "none"),
        ("print(|)\n", "line"),
    ],
)
def test_prefilter_shapes(text, kind):
    assert decide(request(text)).kind == kind


def test_prefilter_user_rules():
    assert decide(request("x = |\n"), disabled_languages=["python"]).kind == "none"
    assert decide(request("X=|\n", path=".env"), ignored_globs=[".env*"]).kind == "none"


async def test_the_pipeline_takes_the_shape_from_the_context_providers_live_tree():
    """One parse per document: the syntax check asks the context provider (its open document's tree), the one the
    context engine keeps anyway, not a parse of its own."""
    import threading

    from qwen_lsp.clients.scripted import ScriptedBackend
    from qwen_lsp.context.base import NoContext
    from qwen_lsp.context.syntax.shape import Shape
    from qwen_lsp.server.completion.pipeline import CompletionPipeline
    from qwen_lsp.server.config import ServerSettings

    asked: list[tuple[str, int]] = []

    class Shapes(NoContext):
        def completion_shape(self, uri, text, offset, language_id=None):
            asked.append((uri, offset))
            return (
                Shape("none", "the provider says no")
                if "skip" in text
                else super().completion_shape(uri, text, offset, language_id)
            )

    backend = ScriptedBackend(default_reply="1")
    provider = Shapes()
    pipeline = CompletionPipeline(backend, ServerSettings(), provider)
    provider.document_changed("file:///r/app.py", "skip = \n", 1, "python")
    assert await pipeline.complete(request("skip = |\n"), threading.Event()) is None and not backend.prompts
    assert await pipeline.complete(request("x = |\n"), threading.Event()) is not None
    assert [offset for _, offset in asked] == [7, 4]
