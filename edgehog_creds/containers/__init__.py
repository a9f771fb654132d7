"""Containers, their images, volumes and networks mounts, device mappings and requests."""
