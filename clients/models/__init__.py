"""Model files and formats: presets, downloads, GGUF headers, fill-in-the-middle templates."""
