"""The HTTP edge: the FastAPI application, problem+json errors, auth dependencies, metrics."""
