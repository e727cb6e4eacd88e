"""Escalation policies and the escalation engine: who is paged for an incident, and when."""
