"""Entrypoints: the HTTP API, the CLI and the composition root that builds them."""
