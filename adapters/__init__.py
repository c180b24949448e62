"""Adapters: what is outside the service (storage, search, cache, CDN), each behind a port."""
