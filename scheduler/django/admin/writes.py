"""Admin writes on a database the scheduler writes to as well.

A SQLite file allows one writer at a time, and a running scheduler writes
every second.  So every admin page that writes (the job form, delete, the
actions, run now) takes the write lock before it reads, and waits for it up
to the database's busy timeout (``OPTIONS["timeout"]``; Django's default is
5 seconds).  A write that still cannot be made is refused with a message on
the page, never a server error, and the job form comes back with what was
typed.  On PostgreSQL and MariaDB the same transaction is an ordinary one.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from ...errors import StoreUnavailable
from .common import store

__all__ = ["GuardedActions", "GuardedWrites", "busy_message"]

# Set on a request whose save was refused: the form is shown again with it.
_REFUSED = "_tickwork_refused"


def busy_message(what: str, error: Exception) -> str:
    """Why ``what`` (``saved``, ``deleted``...) did not happen, and what to do."""
    return (
        f"Not {what}: the scheduler's database is busy ({_reason(error)}). Nothing was "
        "changed; try again. If this happens often on SQLite, raise the database's "
        '"timeout" option (see the settings reference).'
    )


def _reason(error: Exception) -> str:
    return str(error).rsplit(": ", 1)[-1] or type(error).__name__


class GuardedActions(admin.ModelAdmin):  # type: ignore[type-arg]
    """List actions refused with a message, not a server error, when the database
    stays busy (the actions report what each store call did themselves)."""

    def response_action(
        self, request: HttpRequest, queryset: Any, *args: Any, **kwargs: Any
    ) -> HttpResponse | None:
        """The list's actions (pause, resume, run now, cancel, delete selected)."""
        try:
            return super().response_action(request, queryset, *args, **kwargs)
        except (StoreUnavailable, DatabaseError) as error:
            return self._refused(request, "done", error)

    def _refused(self, request: HttpRequest, what: str, error: Exception) -> HttpResponse:
        if isinstance(error, DatabaseError) and not _is_busy(error):
            raise error
        self.message_user(request, busy_message(what, error), messages.ERROR)
        return HttpResponseRedirect(request.get_full_path())


class GuardedWrites(GuardedActions):
    """The job admin's pages that write: each in a transaction that takes the write
    lock first; each refused with a message when the database stays busy."""

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if request.method != "POST":
            return super().changeform_view(request, object_id, form_url, extra_context)
        try:
            with store().writing():
                return super().changeform_view(request, object_id, form_url, extra_context)
        except (StoreUnavailable, DatabaseError) as error:
            if isinstance(error, DatabaseError) and not _is_busy(error):
                raise
            setattr(request, _REFUSED, busy_message("saved", error))
        try:  # the same post again, refused by its form: the page keeps the input
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (StoreUnavailable, DatabaseError) as error:  # cannot even read
            return self._refused(request, "saved", error)

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if request.method != "POST":
            return super().delete_view(request, object_id, extra_context)
        try:
            with store().writing():
                return super().delete_view(request, object_id, extra_context)
        except (StoreUnavailable, DatabaseError) as error:
            return self._refused(request, "deleted", error)

    def guarded_form(
        self, request: HttpRequest, form: type[forms.ModelForm[Any]]
    ) -> type[forms.ModelForm[Any]]:
        """``form``, or (after a refused save) a form that shows why and saves nothing."""
        message: str = getattr(request, _REFUSED, "")
        if not message:
            return form

        def clean(self: forms.ModelForm[Any]) -> dict[str, Any]:
            data: dict[str, Any] = form.clean(self) or self.cleaned_data
            self.add_error(None, forms.ValidationError(message, code="busy"))
            return data

        return type(form.__name__, (form,), {"clean": clean})


def _is_busy(error: DatabaseError) -> bool:
    """Whether a database error is a lock not had in time (SQLite's ``database is
    locked``, a lock wait timeout elsewhere), which a later try may not meet."""
    text = str(error).lower()
    return "locked" in text or "lock wait timeout" in text or "busy" in text
