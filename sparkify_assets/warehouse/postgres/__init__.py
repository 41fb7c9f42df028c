"""The PostgreSQL engine and the embedded PostgreSQL server it runs on by default."""
