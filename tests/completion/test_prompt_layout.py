"""The pipeline lays out the prompt for the backend it has: a backend that heals the last token (``heals_tokens``
on the ``Backend`` interface) gets the typed part of the cursor's line after the middle marker, any other gets
it in the prefix."""

from __future__ import annotations

import pytest

from qwen_lsp.clients.scripted import ScriptedBackend
from qwen_lsp.server.completion.pipeline import CompletionPipeline
from qwen_lsp.server.completion.request import CompletionRequest
from qwen_lsp.server.config import ServerSettings

TEXT = "def total(values):\n    ret\n"


@pytest.mark.parametrize("heals", [False, True])
async def test_the_typed_line_ends_the_prompt_only_for_a_backend_that_heals_tokens(heals: bool) -> None:
    backend = ScriptedBackend()
    backend.heals_tokens = heals
    pipeline = CompletionPipeline(backend, ServerSettings(context={"enabled": False}))
    request = CompletionRequest(
        uri="file:///r/app.py", path="app.py", language_id="python", text=TEXT, offset=TEXT.index("ret") + 3
    )
    build = await pipeline.build_prompt(request)
    last = build.prompt.pieces[-1]
    if heals:
        assert last.text == "    ret" and not last.control
    else:
        assert last.control and build.prompt.text.endswith("def total(values):\n    ret<|fim_suffix|>\n<|fim_middle|>")
