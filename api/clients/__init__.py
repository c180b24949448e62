"""HTTP clients of the API that ship with Chronicle: the reference GPU worker."""
