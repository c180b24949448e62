"""Meaning search and similar tests: the ``test_embeddings`` reactor, its table and queries."""
