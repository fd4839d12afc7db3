"""Model backends: one small async interface, local llama.cpp and OpenAI-compatible implementations."""
