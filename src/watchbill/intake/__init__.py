"""Inbound integrations: vendor payloads in, normalised alert events out, committed in
groups by one writer so that every 2xx means the event is durable."""
