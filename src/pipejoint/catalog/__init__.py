"""What the database holds about tables: the user-facing Connection, table records, and the foreign-key graph."""
