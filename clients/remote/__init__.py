"""The remote backend: an OpenAI-compatible endpoint, reached only through the redactor."""
