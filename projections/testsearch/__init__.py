"""The search index of published tests: the reactor that keeps the ``SearchIndex`` port
(``adapters.search``: PostgreSQL or Meilisearch) equal to the published tests.
"""
