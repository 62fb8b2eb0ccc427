"""Webhooks: per-tenant subscriptions to security events, signed per Standard Webhooks (docs/webhooks.md)."""
