"""``qwen-lsp model list|pull``."""

from __future__ import annotations

import argparse
import sys

from qwen_lsp.clients.base import BackendError


def run_model(args: argparse.Namespace) -> int:
    from qwen_lsp.clients.models import files as models

    if args.model_command == "list":
        print(models.format_model_table(models.list_models()))
        return 0
    try:
        path = models.pull(args.name, source=args.source, progress=models.stderr_progress())
    except (BackendError, ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(path)
    return 0
