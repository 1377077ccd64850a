"""The django.tasks executor on a real backend: django-tasks-db's database worker."""
