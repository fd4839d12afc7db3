"""One module per LSP concern; each has ``register(server)``."""
