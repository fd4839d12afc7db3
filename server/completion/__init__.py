"""The inline completion pipeline, one module per stage; ``pipeline.py`` runs them in order."""
