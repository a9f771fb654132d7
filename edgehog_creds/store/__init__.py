"""What every aggregate's SQL shares (tables.py): a table's row dataclass and columns,
rows by id, deletes, and lists: filters, sorts, keyset pages and cursors.

Each aggregate's own SQL lives in its package (credentials/store.py, ...).
"""
