"""The wire: LSP base-protocol framing and JSON-RPC with exactly one answer per request."""
