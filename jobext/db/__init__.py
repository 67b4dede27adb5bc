"""Persistence: the engine, the tables, paging and migrations. Knows no HTTP."""
