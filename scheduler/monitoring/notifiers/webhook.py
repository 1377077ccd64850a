"""The webhook notifier: a JSON POST per notified run, sent in the background.

``SCHEDULER["NOTIFIERS"] = {"slack": {"BACKEND": "webhook", "OPTIONS": {"URL":
"https://hooks.slack.com/services/...", "TEXT": True}}}``, or
``tickwork run --notify-webhook URL``.  Each request has a ``TIMEOUT``; a
receiver that answers anything but 2xx, or none at all, is tried again after
``BACKOFF`` seconds, doubled each time up to ``BACKOFF_MAX``, ``RETRIES``
times; then the notification is logged and counted ``failed``.  Sent with
:mod:`urllib.request`: no dependency.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from ...clock import Clock
from ..events import RunEvent
from .base import Notifier
from .options import NotifierConfigError, OptionReader
from .payload import event_payload

__all__ = ["WebhookNotifier"]


class WebhookNotifier(Notifier):
    """POSTs :func:`~.payload.event_payload` as JSON to ``url``.

    ``timeout`` bounds each request, in seconds; ``text`` adds a Slack-style
    ``text`` field; ``headers`` are sent with every request (an
    ``Authorization``, say).  The other arguments are :class:`~.base.Notifier`'s.
    """

    backend = "webhook"

    def __init__(
        self,
        name: str,
        *,
        url: str,
        timeout: float = 5.0,
        text: bool = False,
        headers: dict[str, str] | None = None,
        **common: Any,
    ) -> None:
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            raise NotifierConfigError(
                f"notifier {name!r}: URL must be an http:// or https:// address, got {url!r}"
            )
        super().__init__(name, **common)
        self.url = url
        self.timeout = timeout
        self.text = text
        self.headers = {"Content-Type": "application/json", **(headers or {})}

    @classmethod
    def from_options(cls, name: str, options: OptionReader, *, clock: Clock) -> Notifier:
        """``URL`` (required), ``TIMEOUT`` (5 s), ``TEXT`` (False), ``HEADERS``, and the
        common options (``RETRIES``, ``BACKOFF``, ``WHEN``, ...)."""
        url = options.text("URL")
        timeout = options.seconds("TIMEOUT", 5.0)
        text = options.boolean("TEXT", False)
        headers = options.headers("HEADERS")
        common = cls.common_options(options)
        options.done()
        try:
            return cls(
                name, url=url, timeout=timeout, text=text, headers=headers, clock=clock, **common
            )
        except NotifierConfigError as error:
            raise NotifierConfigError(f"{options.where}['OPTIONS']['URL']: {error}") from None

    def deliver(self, event: RunEvent) -> None:
        """POST the event; raise on a transport error or a status outside 2xx."""
        body = json.dumps(event_payload(event, text=self.text)).encode()
        request = urllib.request.Request(  # noqa: S310 - scheme checked when built
            self.url, data=body, headers=self.headers, method="POST"
        )
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
            if not 200 <= response.status < 300:
                raise urllib.error.HTTPError(
                    self.url, response.status, "not a 2xx answer", response.headers, None
                )
