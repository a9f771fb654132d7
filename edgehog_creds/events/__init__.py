"""Live updates: announcements of changes (sql/012), heard and handed to subscribers."""
