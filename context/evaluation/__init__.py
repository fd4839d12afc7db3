"""Own-repository evaluation: which call sites to ask about, and whether the context has their callee."""
