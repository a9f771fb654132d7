"""Image credentials: a label, a username and a sealed password, never shown again."""
