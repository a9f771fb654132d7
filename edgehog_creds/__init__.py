"""edgehog-creds: container-registry credentials for Edgehog fleets."""
