"""Tenants: a slug in every API path, and the public key that verifies their users' JWTs."""
