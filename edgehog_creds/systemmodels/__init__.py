"""Hardware types and system models: what a device is, as Edgehog's fleet pages show it."""
