"""SQLite: the embedded default, its Python functions for what SQLite lacks, and its fragment rewrites."""
