"""The local backend: a GGUF model run in-process by llama-cpp-python (imported lazily)."""
