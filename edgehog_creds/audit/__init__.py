"""The audit trail: who created or deleted what, and when. Never a secret."""
