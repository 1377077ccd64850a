"""The Django app's database fixtures, for the alert tests that run the Django scheduler."""

from tests.django.conftest import alias, django_store

__all__ = ["alias", "django_store"]
