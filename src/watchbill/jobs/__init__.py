"""Durable jobs and timers: rows in the database, claimed with a lease, retried with backoff."""
