"""What every aggregate's SQL shares: lists, filters, keyset pages and cursors (listing.py).

Each aggregate's own SQL lives in its package (credentials/store.py, ...).
"""
