"""The read side, one package per purpose: each read model or reactor with its queries, and the
engine that runs them all (``projections.engine``); ``projections.registry`` names them."""
