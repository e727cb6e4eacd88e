"""Alerts: normalised, deduplicated while open, routed, silenced, grouped into incidents."""
