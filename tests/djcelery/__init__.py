"""A Celery worker inside a Django project records runs through the Django store."""
