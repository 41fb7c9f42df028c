"""The Warehouse interface, its PostgreSQL and Redshift engines, the named SQL, backups."""
