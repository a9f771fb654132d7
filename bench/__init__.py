"""Benchmarks for edgehog-creds: `make bench` runs bench/run.py."""
