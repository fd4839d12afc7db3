"""Retrieval sources: each turns one request into candidate snippets for the ranker."""
