"""Write-side infrastructure: settings, PostgreSQL, the event store, the command executor."""
