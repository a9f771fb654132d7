"""Deployments of releases to devices, the payload a device reads, and its delivery record."""
