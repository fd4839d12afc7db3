"""The qwen-lsp language server: LSP wiring, the completion pipeline and the command line."""

__version__ = "0.1.0"
