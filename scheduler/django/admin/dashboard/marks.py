"""How a status looks in a chart: a colour (a CSS class) and a shape or pattern.

Colour is never the only cue: in the run strip every status has its own
shape, and in the stacked bars its own fill pattern, and the legend shows
both.  The colours themselves are CSS variables (``scheduler/admin.css``)
that the admin's light and dark themes set.
"""

from __future__ import annotations

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from ....model.runs import RunStatus

__all__ = ["legend", "num", "pattern_defs", "pattern_id", "shape", "status_class"]

# Each status's shape, drawn in a 10 x 10 box centred on (0, 0).
_SHAPES: dict[str, str] = {
    RunStatus.SUCCEEDED.value: '<circle r="4.5"/>',
    RunStatus.FAILED.value: '<path d="M-4.5-3L-3-4.5L0-1.5L3-4.5L4.5-3L1.5 0L4.5 3L3 4.5L0 1.5'
    'L-3 4.5L-4.5 3L-1.5 0Z"/>',
    RunStatus.TIMED_OUT.value: '<path d="M0-5L5 4.5L-5 4.5Z"/>',
    RunStatus.LOST.value: '<path d="M0-5L5 0L0 5L-5 0Z"/>',
    RunStatus.MISSED.value: '<rect x="-4" y="-4" width="8" height="8" class="tw-hollow"/>',
    RunStatus.SKIPPED.value: '<rect x="-5" y="-1.5" width="10" height="3"/>',
    RunStatus.CANCELLED.value: '<path d="M-4.5 3.5L3.5-4.5L4.5-3.5L-3.5 4.5Z"/>',
}
_ACTIVE = '<circle r="4" class="tw-hollow"/>'  # pending, queued, running: a ring
# Each stacked status's pattern, drawn over its colour in the page's background colour.
_PATTERNS: dict[str, str] = {
    RunStatus.SUCCEEDED.value: "",
    RunStatus.FAILED.value: '<path d="M0 6L6 0" />',
    RunStatus.TIMED_OUT.value: '<path d="M0 3H6" />',
    RunStatus.LOST.value: '<circle cx="3" cy="3" r="1.2" class="tw-dot"/>',
    RunStatus.MISSED.value: '<path d="M0 0L6 6M0 6L6 0" />',
    RunStatus.SKIPPED.value: '<path d="M3 0V6" />',
}


def status_class(status: str) -> str:
    """The CSS class that colours ``status``."""
    return f"tw-st-{status}"


def shape(status: str, x: float, y: float) -> SafeString:
    """``status``'s shape centred on ``(x, y)``."""
    body = _SHAPES.get(status, _ACTIVE)
    return format_html(
        '<g class="tw-mark {}" transform="translate({} {})">{}</g>',
        status_class(status),
        num(x),
        num(y),
        mark_safe(body),  # noqa: S308 - constant markup of this module
    )


def pattern_id(prefix: str, status: str) -> str:
    """The id of ``status``'s fill pattern in the chart whose ids start with ``prefix``."""
    return f"{prefix}-pattern-{status}"


def pattern_defs(prefix: str, statuses: tuple[str, ...]) -> SafeString:
    """``<defs>`` with a pattern per status (an empty one for a plain fill)."""
    patterns = "".join(
        format_html(
            '<pattern id="{}" width="6" height="6" patternUnits="userSpaceOnUse">{}</pattern>',
            pattern_id(prefix, status),
            mark_safe(_PATTERNS.get(status, "")),  # noqa: S308 - constant markup
        )
        for status in statuses
    )
    return format_html('<defs class="tw-patterns">{}</defs>', mark_safe(patterns))  # noqa: S308


def num(value: float) -> str:
    """A coordinate, short: at most two decimals."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def legend(statuses: tuple[str, ...], prefix: str = "tw-legend") -> SafeString:
    """Each status's colour, fill pattern and shape, with its name."""
    items = "".join(
        format_html(
            '<li><svg class="tw-swatch" viewBox="0 0 34 12" width="34" height="12" '
            'aria-hidden="true">{}<rect class="tw-fill {}" width="12" height="12"/>'
            '<rect class="tw-pattern" fill="url(#{})" width="12" height="12"/>{}</svg>{}</li>',
            pattern_defs(prefix, (status,)),
            status_class(status),
            pattern_id(prefix, status),
            shape(status, 26, 6),
            status.replace("_", " "),
        )
        for status in statuses
    )
    return format_html('<ul class="tw-legend">{}</ul>', mark_safe(items))  # noqa: S308
