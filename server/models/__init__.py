"""The local model in the server: loading it in the background, offering to download it."""
