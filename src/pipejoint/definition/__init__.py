"""The definition language: a table's definition string becomes a TableSpec, and a TableSpec becomes CREATE TABLE statements."""
