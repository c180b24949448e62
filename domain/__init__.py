"""Chronicle's domain: aggregates, their events and errors. No I/O happens here."""
