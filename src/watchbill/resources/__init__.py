"""Named catalog objects handled one way everywhere: API routes, CLI commands and YAML
documents are all built from one `Resource` description per kind."""
