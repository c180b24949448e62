"""The audit log: ``audit_log`` (one row per event), its lists, time travel from the events
(an aggregate at a version, its history) and the diff between two states.
"""
