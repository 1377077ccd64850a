"""Executors: how a due run is carried out (immediate, thread, Celery, django.tasks)."""
