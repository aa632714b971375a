"""The report's charts, drawn with matplotlib (Agg, no display) as SVG and PNG.

Each chart has a title, axis labels and alt text that states its key numbers.
The same report gives the same bytes: no dates or software versions in the
files' metadata, and a fixed salt for the SVG's element ids. Colours are the
Okabe-Ito palette, which people with any common colour-vision deficiency can
tell apart; bars also carry their numbers, so no colour carries meaning alone.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from commsite.report.model import HealthReport

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["PALETTE", "Chart", "MissingMatplotlib", "draw_charts"]

# Okabe & Ito, "Color Universal Design" (2008).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000")
WIDTH, HEIGHT, DPI = 8.0, 4.5, 100  # inches; PNGs are 800 x 450 pixels
MOST_BARS = 15


class MissingMatplotlib(Exception):
    """matplotlib is not installed: the charts need `pip install 'commsite[report]'`."""


@dataclass(frozen=True, slots=True)
class Chart:
    name: str  # file stem: charts/NAME.svg and charts/NAME.png
    title: str
    alt: str
    svg: bytes
    png: bytes


def _short(text: str, most: int = 38) -> str:
    return text if len(text) <= most else text[: most - 1].rstrip() + "…"


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else many or one + 's'}"


def draw_charts(report: HealthReport) -> tuple[Chart, ...]:
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator
    except ImportError:
        raise MissingMatplotlib(
            "the report's charts need matplotlib: pip install 'commsite[report]'"
            " (or use --json, which needs nothing more)"
        ) from None

    style: dict[str, Any] = {
        "svg.hashsalt": "commsite-report",
        "svg.fonttype": "path",
        "font.family": "DejaVu Sans",
        "font.size": 10,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "figure.facecolor": "white",
        "axes.facecolor": "white",
    }

    def new(title: str, xlabel: str, ylabel: str) -> tuple[Figure, Axes]:
        fig = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI, layout="constrained")
        ax = fig.add_subplot()
        ax.set_title(title, loc="left", fontweight="bold")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        return fig, ax

    def save(name: str, title: str, alt: str, fig: Figure) -> Chart:
        svg, png = io.BytesIO(), io.BytesIO()
        fig.savefig(svg, format="svg", metadata={"Date": None, "Creator": None})
        fig.savefig(png, format="png", dpi=DPI, metadata={"Software": None})
        return Chart(name, title, alt, svg.getvalue(), png.getvalue())

    def monthly() -> Chart:
        title = "New members and introductions per month"
        fig, ax = new(title, "Month", "People")
        months = report.months
        xs = list(range(len(months)))
        width = 0.4
        joined = [m.new_members for m in months]
        intros = [m.introductions for m in months]
        a = ax.bar(
            [x - width / 2 for x in xs], joined, width, label="New members", color=PALETTE[0]
        )
        b = ax.bar(
            [x + width / 2 for x in xs], intros, width, label="Introductions", color=PALETTE[1]
        )
        if len(months) <= 24:
            ax.bar_label(a, [str(v) if v else "" for v in joined], fontsize=8)
            ax.bar_label(b, [str(v) if v else "" for v in intros], fontsize=8)
        step = max(1, len(months) // 12)
        ax.set_xticks(xs[::step], [m.month for m in months][::step], rotation=45, ha="right")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylim(bottom=0, top=max([*joined, *intros, 1]) * 1.15)
        ax.legend(frameon=False)
        alt = (
            f"Bar chart, {report.since} to {report.until}: {_n(sum(joined), 'new member')}"
            f" and {_n(sum(intros), 'introduction')} in all"
        )
        busiest = max(months, key=lambda m: (m.new_members + m.introductions, m.month))
        if busiest.new_members + busiest.introductions:
            alt += (
                f"; the busiest month, {busiest.month}, had {busiest.new_members} new"
                f" and {busiest.introductions} introduced"
            )
        return save("members-per-month", title, alt + ".", fig)

    def horizontal(
        title: str,
        xlabel: str,
        ylabel: str,
        rows: list[tuple[str, int]],
        colour: Callable[[int], str],
        empty: str,
        shown: list[str] | None = None,
    ) -> Figure:
        fig, ax = new(title, xlabel, ylabel)
        if not rows:
            ax.text(0.5, 0.5, empty, ha="center", va="center", transform=ax.transAxes)
            ax.set_xticks([])
            ax.set_yticks([])
            return fig
        labels = [_short(label) for label, _ in rows][::-1]
        values = [value for _, value in rows][::-1]
        colours = [colour(i) for i in range(len(rows))][::-1]
        bars = ax.barh(range(len(rows)), values, color=colours)
        texts = shown[::-1] if shown is not None else [f"{v:,}" for v in values]
        ax.bar_label(bars, texts, padding=3, fontsize=9)
        ax.set_yticks(range(len(rows)), labels)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlim(left=0, right=max([*values, 1]) * 1.15)
        return fig

    def replies() -> Chart:
        title = "Replies per story and event"
        top = report.replies_by_post[:MOST_BARS]
        fig = horizontal(
            title,
            "Replies",
            "Story or event",
            [(p.title, p.replies) for p in top],
            lambda i: PALETTE[0],
            "No replies in this period",
        )
        total = sum(p.replies for p in report.replies_by_post)
        alt = (
            f"Bar chart of replies per story and event, {report.since} to {report.until}:"
            f" {_n(total, 'reply', 'replies')} to {_n(len(report.replies_by_post), 'post')}"
        )
        if top:
            alt += f"; the most, {top[0].replies:,}, to “{top[0].title}”"
        alt += f"; {_n(report.posts_without_replies, 'post')} without replies."
        return save("replies-per-post", title, alt, fig)

    def conversation() -> Chart:
        c = report.conversation
        title = "Whom the replies answer"
        rows = [
            ("Member to member", c.member_to_member),
            ("To the community's posts", c.to_community),
            ("Other conversations", c.other),
            ("By the community account", c.by_community),
        ]
        fig = horizontal(
            title,
            "Replies",
            "Kind of reply",
            rows if c.total else [],
            lambda i: PALETTE[i],
            "No replies in this period",
        )
        share = c.member_share
        alt = (
            f"Bar chart of {_n(c.total, 'reply', 'replies')}, {report.since} to {report.until}:"
            f" {c.member_to_member:,} member to member"
            + (f" ({share:.0%})" if share is not None else "")
            + f", {c.to_community:,} to the community's own posts, {c.other:,} other,"
            f" {c.by_community:,} by the community account."
        )
        return save("conversation", title, alt, fig)

    def commitment() -> Chart:
        title = "The commitment curve: people at each step"
        rows = [(s.label, s.people or 0) for s in report.commitment]
        fig = horizontal(
            title,
            "Distinct people",
            "Step",
            rows,
            lambda i: PALETTE[i % 6],
            "",
            [
                "unknown (no store)" if s.people is None else f"{s.people:,}"
                for s in report.commitment
            ],
        )
        alt = "Bar chart of distinct people at each step: " + "; ".join(
            f"{s.label.lower()}: {'unknown' if s.people is None else f'{s.people:,}'}"
            for s in report.commitment
        )
        return save("commitment", title, alt + ".", fig)

    def comebacks() -> Chart:
        ft = report.first_timers
        title = "First-timers per event, and how many came back"
        fig, ax = new(title, "Event", "People")
        events = ft.by_event[-MOST_BARS:]
        if events:
            xs = list(range(len(events)))
            width = 0.4
            a = ax.bar(
                [x - width / 2 for x in xs],
                [e.first_timers for e in events],
                width,
                label="First event",
                color=PALETTE[2],
            )
            b = ax.bar(
                [x + width / 2 for x in xs],
                [e.came_back for e in events],
                width,
                label="Came back to another",
                color=PALETTE[3],
            )
            ax.bar_label(a, fontsize=8)
            ax.bar_label(b, fontsize=8)
            ax.set_xticks(xs, [_short(e.title, 22) for e in events], rotation=30, ha="right")
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_ylim(bottom=0, top=max(e.first_timers for e in events) * 1.2)
            ax.legend(frameon=False)
        else:
            ax.text(
                0.5,
                0.5,
                "Nobody has gone to a past event yet",
                ha="center",
                va="center",
                transform=ax.transAxes,
            )
            ax.set_xticks([])
            ax.set_yticks([])
        alt = (
            f"Bar chart per past event: {_n(ft.people, 'person', 'people')} went to an event,"
            f" and {ft.came_back:,} of them came back to a second one."
        )
        return save("first-timers", title, alt, fig)

    import matplotlib as mpl

    # (matplotlib types rc keys as one Literal; a plain dict of them does not match it)
    with mpl.rc_context(style):  # type: ignore[arg-type]
        return (monthly(), replies(), conversation(), commitment(), comebacks())
