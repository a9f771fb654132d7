"""Devices: what runs releases, each with a token that only it holds."""
