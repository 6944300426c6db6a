"""Source extracts: the registry (data), reading landing files, the raw zone, ingest assets."""
