"""Edges: storage, the system clock, notifiers and inbound sources."""
