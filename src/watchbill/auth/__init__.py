"""Who is calling and what they may do: API tokens, page sessions, roles."""
