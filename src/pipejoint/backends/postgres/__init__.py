"""PostgreSQL through psycopg 3, and its fragment rewrites."""
