"""The dashboard's trend charts, drawn on the server as inline SVG by pygal (no JavaScript: the page's CSP allows
none). Each function takes the weekly trends and returns one `<svg>` element as text."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

import pygal
from pygal.style import Style

from reports.trends import Trends

STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#1d1d1f",
    foreground_strong="#1d1d1f",
    foreground_subtle="#999",
    colors=("#7a1fa2", "#1565c0", "#2e7d32", "#c62828", "#ef6c00"),
    font_family="system-ui, sans-serif",
    title_font_size=22,
    legend_font_size=17,
    label_font_size=15,
    major_label_font_size=15,
)


def _config() -> dict[str, object]:
    return {
        "style": STYLE,
        "js": [],  # no tooltips script: nothing to fetch, nothing to run
        "disable_xml_declaration": True,
        "width": 640,
        "height": 320,
        "legend_at_bottom": True,
        "legend_at_bottom_columns": 3,
        "x_label_rotation": 0,
        "show_minor_x_labels": False,
        "truncate_legend": -1,
        "print_values": False,
        "margin": 12,
    }


def _render(chart: Any, trends: Trends) -> str:
    """The chart as one `<svg>` element, without pygal's inline config script (the page runs no script)."""
    labels = [w.label for w in trends.weeks]
    chart.x_labels = labels
    chart.x_labels_major = labels[::3]
    tree = chart.render_tree()
    for parent in list(tree.iter()):
        for child in list(parent):
            if str(child.tag).endswith("script"):
                parent.remove(child)
    return ElementTree.tostring(tree, encoding="unicode")


def service_level_chart(trends: Trends) -> str:
    chart = pygal.Line(range=(0, 100), allow_interruptions=True, **_config())
    chart.title = "First-response service level met (%)"
    for tier in ("premium", "standard", "basic"):
        values = [w.hit_rate.get(tier) for w in trends.weeks]
        chart.add(tier, [None if v is None else round(v * 100) for v in values])
    return _render(chart, trends)


def first_response_chart(trends: Trends) -> str:
    chart = pygal.Bar(**_config())
    chart.title = "Median first response (hours)"
    chart.add(
        "median first response",
        [
            None if w.median_first_response is None else round(w.median_first_response.total_seconds() / 3600, 1)
            for w in trends.weeks
        ],
    )
    return _render(chart, trends)


def csat_chart(trends: Trends) -> str:
    chart = pygal.StackedBar(**_config())
    chart.title = "Satisfaction ratings"
    chart.add("good", [w.csat_good for w in trends.weeks])
    chart.add("bad", [w.csat_bad for w in trends.weeks])
    return _render(chart, trends)


def activity_chart(trends: Trends) -> str:
    chart = pygal.Line(**_config())
    chart.title = "Re-assigns, unhappy customers, gestures delivered"
    chart.add("re-assigns", [w.reassigns for w in trends.weeks])
    chart.add("unhappy customers", [w.unhappy_customers for w in trends.weeks])
    chart.add("gestures delivered", [w.gestures_delivered for w in trends.weeks])
    return _render(chart, trends)


def all_charts(trends: Trends) -> list[str]:
    return [service_level_chart(trends), first_response_chart(trends), csat_chart(trends), activity_chart(trends)]
