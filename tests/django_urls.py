"""URLs of the test settings: the admin, where the scheduler's pages live."""

from django.contrib import admin
from django.urls import path

urlpatterns = [path("admin/", admin.site.urls)]
