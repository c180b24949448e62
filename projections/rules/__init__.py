"""Rules: the ``rules`` read model, its projection and queries."""
