"""Lookups: query parsing and typo tolerance (query), name matching (names, indexes), ranking
(rank), the search SQL (sql), the free-text pipeline (free_text), what lookups return
(results) and the Lookup service (service)."""
