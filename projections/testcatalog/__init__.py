"""The test site's catalog: ``test_catalog``, its projection and queries, the read-through
cache of its public answers, and the reactor that purges that cache (and the CDN) after a change.
"""
