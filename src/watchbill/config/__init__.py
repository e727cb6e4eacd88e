"""Configuration as code: multi-document YAML in the apiVersion/kind/metadata/spec shape."""
