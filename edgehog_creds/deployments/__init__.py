"""Deployments of releases to devices: their lifecycle, what devices report and read,
the payload and its delivery record."""
