"""HTTP clients for services the actions call (one module per service)."""
