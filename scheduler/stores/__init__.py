"""Stores: where jobs and runs live (memory, SQLAlchemy, Django)."""
