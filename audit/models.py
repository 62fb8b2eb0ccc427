"""The audit trail (see the audit issue)."""
