"""Use cases: one named command per thing a caller can ask of the aggregates."""
