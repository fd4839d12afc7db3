"""The repository index: which files, their definitions and similar-code windows, kept in step with the workspace and persisted."""
