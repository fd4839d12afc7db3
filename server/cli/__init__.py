"""The ``qwen-lsp`` command line: serve, complete, context, demo, eval, model, stats, doctor, settings."""
