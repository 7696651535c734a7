"""MySQL and MariaDB through PyMySQL, and their fragment rewrites."""
