"""HealthReport + charts -> one self-contained, accessible HTML page (Jinja2).

The charts are inlined as SVG data URIs in <img> elements with alt text, so
the page can be mailed or opened from anywhere; nothing is fetched.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from pathlib import Path

import jinja2

from commsite.report.charts import Chart
from commsite.report.model import HealthReport

__all__ = ["render_page"]

_TEMPLATES = Path(__file__).parent / "templates"


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _data_uri(chart: Chart) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(chart.svg).decode("ascii")


def render_page(report: HealthReport, charts: Sequence[Chart], language: str = "en") -> str:
    template = _environment().get_template("report.html")
    return template.render(
        report=report,
        language=language,
        charts={c.name: {"title": c.title, "alt": c.alt, "src": _data_uri(c)} for c in charts},
        share=report.conversation.member_share,
    )
