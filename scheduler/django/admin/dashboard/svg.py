"""The frame every chart shares: an accessible ``<svg>`` and a few drawing helpers.

Each chart is one ``<svg role="img">`` named by its ``<title>`` and
described by its ``<desc>`` (the figures in words); the page shows the same
figures as a table beside it.  Text and lines take the admin's own colours
(CSS variables), so a chart follows the admin's light or dark theme.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from .marks import num

__all__ = ["frame", "join", "line", "text", "titled"]


def frame(
    *, key: str, width: int, height: int, title: str, desc: str, body: SafeString
) -> SafeString:
    """The ``<svg>`` of chart ``key``, scaled to its container's width."""
    return format_html(
        '<svg class="tw-chart" id="{key}" role="img" viewBox="0 0 {w} {h}" '
        'width="100%" preserveAspectRatio="xMinYMin meet" '
        'aria-labelledby="{key}-title {key}-desc" xmlns="http://www.w3.org/2000/svg">'
        '<title id="{key}-title">{title}</title><desc id="{key}-desc">{desc}</desc>{body}</svg>',
        key=key,
        w=width,
        h=height,
        title=title,
        desc=desc,
        body=body,
    )


def join(parts: Iterable[SafeString]) -> SafeString:
    """Pieces of markup, one after the other."""
    return mark_safe("".join(parts))  # noqa: S308 - each part is escaped markup


def line(x1: float, y1: float, x2: float, y2: float, css: str = "tw-axis") -> SafeString:
    return format_html(
        '<line class="{}" x1="{}" y1="{}" x2="{}" y2="{}"/>',
        css,
        num(x1),
        num(y1),
        num(x2),
        num(y2),
    )


def text(
    x: float, y: float, words: str, anchor: str = "start", css: str = "tw-label"
) -> SafeString:
    return format_html(
        '<text class="{}" x="{}" y="{}" text-anchor="{}">{}</text>',
        css,
        num(x),
        num(y),
        anchor,
        words,
    )


def titled(element: SafeString, title: str) -> SafeString:
    """``element`` inside a group whose ``<title>`` is its tooltip and accessible name."""
    return format_html("<g><title>{}</title>{}</g>", title, element)
