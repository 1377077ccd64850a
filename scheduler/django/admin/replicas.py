"""Scheduler replicas and their heartbeats, read-only: is a scheduler running?"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

from ..models import Replica
from ..settings import read_settings
from .common import database, now
from .display import local_time, relative

__all__ = ["ReplicaAdmin"]


@admin.register(Replica)
class ReplicaAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("id", "hostname", "pid", "alive", "last_heartbeat", "started", "stopped_at")
    ordering = ("-heartbeat_at",)
    fields = ("id", "hostname", "pid", "alive", "last_heartbeat", "started", "stopped_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Replica]:
        return super().get_queryset(request).using(database())

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Replica | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Replica | None = None) -> bool:
        return False

    @admin.display(description="alive", boolean=True)
    def alive(self, replica: Replica) -> bool:
        """Heartbeating within ``SCHEDULER["STALE_AFTER"]`` and not stopped."""
        stale_after = read_settings()[0].stale_after
        return replica.stopped_at is None and now() - replica.heartbeat_at <= stale_after

    @admin.display(description="last heartbeat", ordering="heartbeat_at")
    def last_heartbeat(self, replica: Replica) -> SafeString:
        return format_html(
            '{} <span class="tw-relative">{}</span>',
            local_time(replica.heartbeat_at, "UTC"),
            relative(replica.heartbeat_at, now()),
        )

    @admin.display(description="started", ordering="started_at")
    def started(self, replica: Replica) -> str:
        return local_time(replica.started_at, "UTC")
