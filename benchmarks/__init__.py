"""Tickwork beside django-celery-beat and APScheduler 3: see docs/performance.md."""
