"""The Tickwork demo site: the admin, one app with a few jobs, SQLite."""
