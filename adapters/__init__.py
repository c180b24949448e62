"""Adapters: object storage (and soon search and cache) behind ports of their own."""
