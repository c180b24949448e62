"""The users' credits: ``user_summary`` (what ``GET /me`` answers) and ``credit_ledger``
(one row per grant, reservation, commit and refund), their projections and queries.
"""
