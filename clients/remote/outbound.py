"""The one way out to a remote endpoint: an OpenAI client whose every request body is redacted first.

The SDK calls ``_prepare_options`` for each attempt of each request (its documented hook for changing a request),
so FIM prompts, chat messages, tool results and ``extra_body`` fields all pass ``redaction`` whatever code path
built them; retries send the same redacted body. The caller's objects are never modified.
"""

from __future__ import annotations

import logging
from typing import Any

import openai

from .redaction import redact_json

log = logging.getLogger(__name__)


class RedactingAsyncOpenAI(openai.AsyncOpenAI):
    async def _prepare_options(self, options: Any) -> Any:
        options = await super()._prepare_options(options)
        found = None
        for field in ("json_data", "extra_json"):
            value = getattr(options, field, None)
            if value:
                redacted, counts = redact_json(value)
                setattr(options, field, redacted)
                found = counts if found is None else found + counts
        if found:  # kinds and counts only: never a value
            log.debug(
                "redacted %s from a request to %s",
                ", ".join(f"{n} {kind}" for kind, n in sorted(found.items())),
                options.url,
            )
        return options
