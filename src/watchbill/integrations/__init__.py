"""Per-service integration keys: how monitoring tools reach a service without a user token."""
