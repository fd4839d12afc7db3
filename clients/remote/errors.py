"""What a failed request to the endpoint means for the user: which URL failed and what to check."""

from __future__ import annotations

import logging

import openai

log = logging.getLogger(__name__)


class CutOff(Exception):
    """A stream that ended without its end (no finish_reason, no usage report): the connection was cut."""


def failure_message(exc: Exception, url: str, api_key_env: str, model: str | None) -> str:
    """The message for ``exc`` from ``url`` (the caller removes the API key from it)."""
    if isinstance(exc, openai.APITimeoutError):
        msg = (
            f"{url} did not answer in time; check that the server is up and not overloaded, or raise "
            "backend.remote.read_timeout_s / connect_timeout_s"
        )
    elif isinstance(exc, openai.APIConnectionError):
        msg = (
            f"cannot connect to {url}; check that the server is running and that backend.remote.base_url "
            "(including the /v1 part) and any proxy settings are right"
        )
    elif isinstance(exc, (openai.AuthenticationError, openai.PermissionDeniedError)):
        msg = (
            f"{url} rejected the request (HTTP {exc.status_code}): set the API key in the environment "
            f"variable {api_key_env} (backend.remote.api_key_env) before starting qwen-lsp"
        )
    elif isinstance(exc, openai.NotFoundError):
        msg = (
            f"{url} returned 404: check backend.remote.base_url and that the server offers this endpoint "
            f"and the model {model!r}"
        )
    elif isinstance(exc, openai.APIStatusError):
        msg = f"{url} returned HTTP {exc.status_code}: {exc.message}"
    elif isinstance(exc, CutOff):
        msg = (
            f"{url} ended its stream before the answer was finished (no finish_reason); the partial answer "
            "was dropped. Check the server's log, or a proxy that cuts long responses"
        )
    elif isinstance(exc, ValueError):  # invalid JSON, or JSON not shaped like the API's replies
        log.warning("%s sent a reply that could not be read: %s", url, exc)
        msg = (
            f"{url} sent a reply that is not OpenAI-compatible JSON; check that backend.remote.base_url "
            "points to an OpenAI-compatible API (the log has the details)"
        )
    else:
        msg = f"request to {url} failed: {exc}"
    return msg
