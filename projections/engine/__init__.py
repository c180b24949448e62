"""The machinery that runs every read model and reactor: following the log (one active
instance, standbys, NOTIFY wake-ups), the projection and reactor runners, dead letters,
rebuilds, status and the log watcher. It knows no read model by name: the slices beside it do.
"""
