"""What every aggregate's SQL shares.

tables.py: a table's row dataclass and columns, rows by id, deletes;
pages.py: lists (filters, sorts, keyset pages); cursors.py: their cursors.
Each aggregate's own SQL lives in its package (credentials/store.py, ...).
"""
