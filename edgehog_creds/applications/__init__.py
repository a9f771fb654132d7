"""Applications and their immutable releases, each listing containers by id."""
