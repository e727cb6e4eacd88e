"""Incidents: what humans act on; severity, priority, urgency, status and a timeline."""
