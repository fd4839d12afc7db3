"""The settings reference as a markdown table (README, ``qwen-lsp settings``), generated from the models."""

from __future__ import annotations

import json
from collections.abc import Iterator

from pydantic import BaseModel

from ..config import ServerSettings


def setting_rows(model: type[BaseModel] = ServerSettings, prefix: str = "") -> Iterator[tuple[str, str, str]]:
    """(dotted name, JSON default, description) for every leaf setting."""
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from setting_rows(annotation, f"{prefix}{name}.")
            continue
        default = field.get_default(call_default_factory=True)
        if isinstance(default, BaseModel):
            default = default.model_dump()
        elif isinstance(default, dict):
            default = {k: v.model_dump() if isinstance(v, BaseModel) else v for k, v in default.items()}
        yield f"{prefix}{name}", json.dumps(default), field.description or ""


def markdown_table() -> str:
    lines = ["| setting | default | description |", "|---|---|---|"]
    for name, default, description in setting_rows():
        if len(default) > 60:
            default = default[:57] + "..."
        lines.append(f"| `{name}` | `{default}` | {description.replace('|', '/')} |")
    return "\n".join(lines)
