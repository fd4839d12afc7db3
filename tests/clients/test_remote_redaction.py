"""The remote backend's one way out: whatever builds the request (FIM prompt, chat messages, tool results,
``extra_body``), the body that reaches an OpenAI-compatible server on 127.0.0.1 has its credentials redacted, and
the caller's own objects are left as they were."""

from __future__ import annotations

import json
import threading

from qwen_lsp.clients.base import GenerationParams, Prompt, PromptPiece
from qwen_lsp.clients.remote.backend import OpenAICompatBackend
from qwen_lsp.clients.settings import RemoteSettings
from recording_endpoint import RecordingEndpoint

AWS = "AKIAIOSFODNN7EXAMPLE"
GITHUB = "ghp_16C7e42F292c6912E7710c838347Ae178B4a"


async def test_fim_chat_tool_results_and_extra_body_are_redacted_on_the_wire() -> None:
    with RecordingEndpoint(completion_text="x") as endpoint:
        settings = RemoteSettings(
            base_url=endpoint.base_url,
            model="m",
            api_key_env="QWEN_LSP_UNSET_KEY_VAR",
            extra_body={"user_note": f"deploy key {AWS}"},
        )
        backend = OpenAICompatBackend(settings)
        try:
            prompt = Prompt(
                (
                    PromptPiece("<|fim_prefix|>", True),
                    PromptPiece(f'KEY = "{AWS}"\n'),
                    PromptPiece("<|fim_suffix|>", True),
                    PromptPiece("<|fim_middle|>", True),
                )
            )
            chunks = [c async for c in backend.stream_fim(prompt, GenerationParams(max_tokens=4), threading.Event())]
            messages = [
                {"role": "user", "content": "tidy up"},
                {
                    "role": "assistant",
                    "content": "",
                    "tool_calls": [
                        {"id": "1", "type": "function", "function": {"name": "read_file", "arguments": "{}"}}
                    ],
                },
                {"role": "tool", "tool_call_id": "1", "content": f"1| GITHUB_TOKEN = '{GITHUB}'"},
            ]
            reply = await backend.chat(messages, GenerationParams(max_tokens=4))
        finally:
            await backend.aclose()
    assert chunks == ["x"] and reply.content == "done"
    fim, chat = (json.loads(body) for body in endpoint.bodies)
    assert fim["prompt"] == '<|fim_prefix|>KEY = "<redacted:aws-access-key-id>"\n<|fim_suffix|><|fim_middle|>'
    assert fim["user_note"] == "deploy key <redacted:aws-access-key-id>" and fim["model"] == "m"
    assert chat["messages"][2]["content"] == "1| GITHUB_TOKEN = '<redacted:github-token>'"
    assert messages[2]["content"].endswith(f"'{GITHUB}'")  # the conversation the agent keeps is untouched
    assert prompt.pieces[1].text == f'KEY = "{AWS}"\n'
