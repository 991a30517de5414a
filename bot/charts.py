"""Pictures for phones: the funnel as a PNG (matplotlib, Agg backend, DejaVu Sans so Cyrillic
and Romanian letters render).

Labels are the team's own stage names: matplotlib would read `$…$` in them as mathtext (a stage
named `$\\foo$` broke the digest), so every text is drawn with `parse_math=False`. Drawing is
CPU work: callers run it off the event loop (`asyncio.to_thread`), one picture at a time.
"""

from __future__ import annotations

import threading
from io import BytesIO

MAX_BARS = 12  # more stages than this: the rest are summed in one last bar
_DRAWING = threading.Lock()  # matplotlib's font cache and text layout are not thread-safe


def capped(bars: list[tuple[str, int]], other: str) -> list[tuple[str, int]]:
    """At most MAX_BARS bars: the last one sums the stages that did not fit, labelled `other`."""
    if len(bars) <= MAX_BARS:
        return bars
    kept = bars[: MAX_BARS - 1]
    return [*kept, (other, sum(count for _, count in bars[MAX_BARS - 1 :]))]


def funnel_png(title: str, bars: list[tuple[str, int]]) -> bytes:
    """Horizontal bars, top stage first, each labelled with its count."""
    with _DRAWING:
        return _funnel_png(title, bars)


def _funnel_png(title: str, bars: list[tuple[str, int]]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    labels = [label for label, _ in bars][::-1]
    counts = [count for _, count in bars][::-1]
    figure = Figure(figsize=(6.4, 1.2 + 0.55 * len(bars)), dpi=150)
    axes = figure.subplots()
    positions = list(range(len(labels)))
    axes.barh(positions, counts, color="#3b82f6")
    axes.set_yticks(positions)
    axes.set_yticklabels(labels, parse_math=False, fontsize=10, fontfamily="DejaVu Sans")
    for y, count in enumerate(counts):
        axes.text(
            count,
            y,
            f" {count}",
            va="center",
            fontsize=10,
            fontfamily="DejaVu Sans",
            parse_math=False,
        )
    axes.set_title(title, fontsize=12, fontfamily="DejaVu Sans", parse_math=False)
    axes.spines[["top", "right"]].set_visible(False)
    axes.set_xlim(0, max([*counts, 1]) * 1.2)
    buffer = BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()
