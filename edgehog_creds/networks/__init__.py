"""Networks: Docker networks that the containers of a release join."""
