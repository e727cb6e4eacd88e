"""Notifications: paging a user by their rules, over email, Slack, webhooks and SMS/voice
providers, with durable retried deliveries, a delivery log and signed action links."""
