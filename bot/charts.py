"""Pictures for phones: the funnel as a PNG (matplotlib, Agg backend, DejaVu Sans so Cyrillic
and Romanian letters render)."""

from __future__ import annotations

from io import BytesIO


def funnel_png(title: str, bars: list[tuple[str, int]]) -> bytes:
    """Horizontal bars, top stage first, each labelled with its count."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    labels = [label for label, _ in bars][::-1]
    counts = [count for _, count in bars][::-1]
    figure = Figure(figsize=(6.4, 1.2 + 0.55 * len(bars)), dpi=150)
    axes = figure.subplots()
    axes.barh(labels, counts, color="#3b82f6")
    for y, count in enumerate(counts):
        axes.text(count, y, f" {count}", va="center", fontsize=10, fontfamily="DejaVu Sans")
    axes.set_title(title, fontsize=12, fontfamily="DejaVu Sans")
    axes.tick_params(axis="y", labelsize=10)
    for label in axes.get_yticklabels():
        label.set_fontfamily("DejaVu Sans")
    axes.spines[["top", "right"]].set_visible(False)
    axes.set_xlim(0, max([*counts, 1]) * 1.2)
    buffer = BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()
