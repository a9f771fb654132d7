"""Applications, their immutable releases and the containers each release runs."""
