"""The job form's notification fields: who hears about the job's runs (``notify:``).

Three fields stand for one :class:`~scheduler.model.notify.JobNotify`:
``notify`` (every configured notifier, none, or only some), ``notify_to``
(which, among ``SCHEDULER["NOTIFIERS"]``) and ``notify_when`` (on which
statuses; none checked: each notifier's own).  A name that is not configured
cannot be chosen: the form refuses it next to the field.
"""

from __future__ import annotations

from typing import Any

from django import forms

from ...model.notify import JobNotify
from ...model.runs import TERMINAL_STATUSES
from ..settings import read_settings

__all__ = ["NotifyFields", "notify_initial", "notify_text"]

_EVERY, _OFF, _ONLY = "every", "off", "only"
_STATUSES = sorted(status.value for status in TERMINAL_STATUSES)


class NotifyFields(forms.Form):
    """The notification fields, mixed into the job form; :meth:`notify_value` reads them."""

    notify = forms.ChoiceField(
        required=False,
        initial=_EVERY,
        label="Notify",
        widget=forms.RadioSelect,
        choices=[
            (_EVERY, "Every configured notifier, on its own statuses"),
            (_ONLY, "Only the notifiers checked below"),
            (_OFF, "Nobody (this job never notifies)"),
        ],
    )
    notify_to = forms.MultipleChoiceField(
        required=False,
        label="Notifiers",
        widget=forms.CheckboxSelectMultiple,
        help_text="Among SCHEDULER['NOTIFIERS'].",
    )
    notify_when = forms.MultipleChoiceField(
        required=False,
        label="On",
        widget=forms.CheckboxSelectMultiple,
        choices=[(status, status.replace("_", " ")) for status in _STATUSES],
        help_text="The run statuses that notify. None checked: each notifier's own "
        "(failed, timed out, lost, missed unless its settings say otherwise).",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        configured = sorted(read_settings()[0].notifiers)
        field = self.fields["notify_to"]
        assert isinstance(field, forms.MultipleChoiceField)  # noqa: S101 - declared above
        field.choices = [(name, name) for name in configured]
        field.error_messages["invalid_choice"] = (
            "%(value)s is not a notifier of SCHEDULER['NOTIFIERS']."
        )

    def notify_value(self) -> JobNotify:
        """The :class:`JobNotify` the fields say; an error on ``notify_to`` if "only" has none."""
        data = self.cleaned_data
        choice = data.get("notify") or _EVERY
        if choice == _OFF:
            return JobNotify(enabled=False)
        names = tuple(data.get("notify_to") or ())
        when = frozenset(data.get("notify_when") or ()) or None
        if choice == _ONLY and not names:
            if "notify_to" not in self.errors:  # not already refused as unknown
                self.add_error("notify_to", "Check at least one notifier, or choose Nobody.")
            return JobNotify()
        return JobNotify(to=names if choice == _ONLY else None, when=when)


def notify_initial(notify: JobNotify) -> dict[str, Any]:
    """The fields' values for a stored setting."""
    choice = _OFF if not notify.enabled else _ONLY if notify.to is not None else _EVERY
    return {
        "notify": choice,
        "notify_to": list(notify.to or ()),
        "notify_when": sorted(status.value for status in notify.when or ()),
    }


def notify_text(notify: JobNotify) -> str:
    """The setting in words, for the read-only page."""
    if not notify.enabled:
        return "nobody"
    who = ", ".join(notify.to) if notify.to is not None else "every configured notifier"
    when = (
        ", ".join(sorted(status.value for status in notify.when))
        if notify.when is not None
        else "each notifier's own statuses"
    )
    return f"{who}; on {when}"
