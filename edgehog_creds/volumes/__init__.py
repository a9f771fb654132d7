"""Volumes: named Docker volumes that the containers of a release mount."""
