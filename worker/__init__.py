"""The reference GPU worker: a client of the HTTP API (leases, results, callbacks)."""
