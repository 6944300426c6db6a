"""Person linkage: identity records, Splink model, scoring, clustering, stable ids, pseudonyms."""
