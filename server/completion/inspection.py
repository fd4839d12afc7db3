"""What the model would see at a position, and why: the JSON of ``qwen.inspectContext`` and
``qwen-lsp context --json``."""

from __future__ import annotations

from collections.abc import Callable

from .pipeline import PromptBuild


def describe_prompt(build: PromptBuild, count_tokens: Callable[[str], int], budget: int) -> dict:
    return {
        "prompt": build.prompt.text,
        "prompt_tokens": count_tokens(build.prompt.text),
        "budget": budget,
        "template": build.template.family,
        "shape": build.shape,
        "snippets": [
            {
                "uri": s.uri,
                "path": s.path,
                "range": {"start": {"line": s.start_line, "character": 0}, "end": {"line": s.end_line, "character": 0}},
                "source": s.source,
                "score": round(s.score, 4),
                "tokens": s.tokens,
            }
            for s in build.context.snippets
        ],
        "timings_ms": {**build.timings_ms, **{f"context.{k}": v for k, v in build.context.timings_ms.items()}},
    }
