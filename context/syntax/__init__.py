"""Tree-sitter: languages, parsing, queries, definitions of one file, the completion shape."""
