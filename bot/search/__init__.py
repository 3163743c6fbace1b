"""Lookups: query parsing and typo tolerance (query), name matching (names, indexes, and
segments for several names in one query), ranking (rank), the search SQL (sql), the free-text
pipeline (free_text, with phrases for queries of common words), what lookups return
(results) and the Lookup service (service)."""
