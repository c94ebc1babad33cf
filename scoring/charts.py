"""Charts of a panel's scores, rendered to SVG on the server with pygal (no script; every page and the evaluation
report pair each chart with a data table as its text alternative):

* the member × criterion heat map of one proposal (pygal's Dot chart: one row per member, one column per criterion,
  each dot sized and coloured by the score as a share of the criterion's scale);
* the distribution of the scores per criterion (pygal's Box chart: minimum, quartiles, median, maximum).

The charts take plain values (names and numbers), so the moderation page and the report draw the same ones from
whatever they are allowed to show."""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from decimal import Decimal

import pygal
from pygal.style import Style

# pygal appends a legacy sys.meta_path finder (for its map plugins, unused here) that makes every later failed
# import lookup in the process raise ImportWarning: take it out again (as contracts/charts.py does).
sys.meta_path[:] = [finder for finder in sys.meta_path if type(finder).__name__ != "PluginImportFixer"]

#: light to dark blue: a low score is pale, a full score dark (readable in greyscale print too)
_SCALE = ("#deebf7", "#b3d3ea", "#7fb2d9", "#4a8fc4", "#1f6aa5", "#0b4f8a", "#08325a")
_BASE = dict(background="#ffffff", plot_background="#ffffff", foreground="#1b1f24", foreground_strong="#1b1f24",
             foreground_subtle="#4a5360", font_family="sans-serif", label_font_size=12, major_label_font_size=12,
             legend_font_size=12, title_font_size=14, value_font_size=11)


@dataclass(frozen=True)
class ChartCriterion:
    name: str
    max_score: int


def _clean(svg: bytes) -> bytes:
    # pygal writes its configuration into a <script> even with js=[]: the chart needs none (CHART_CSP runs none).
    return re.sub(rb"<script\b.*?</script>", b"", svg, flags=re.S)


def _short(name: str, limit: int = 18) -> str:
    return name if len(name) <= limit else name[:limit - 1] + "…"


def heatmap_color(value: Decimal | int | float | None, max_score: int) -> str:
    """The colour of a score on the light-to-dark scale (its share of the criterion's maximum)."""
    if value is None or not max_score:
        return "#ffffff"
    share = min(max(float(value) / float(max_score), 0.0), 1.0)
    return _SCALE[min(int(share * len(_SCALE)), len(_SCALE) - 1)]


def heatmap_svg(criteria: list[ChartCriterion], members: list[str], scores: list[list], *, title: str) -> bytes:
    """scores[m][c]: member m's score on criterion c (None where it has none). One row of dots per member."""
    style = Style(colors=("#0b4f8a",) * max(len(members), 1), **_BASE)
    chart = pygal.Dot(style=style, width=max(420, 90 + 70 * len(criteria)), height=max(180, 70 + 42 * len(members)),
                      js=[], show_legend=False, x_label_rotation=20 if len(criteria) > 5 else 0, truncate_label=-1,
                      print_values=True, print_values_position="center", title=title, dots_size=18,
                      disable_xml_declaration=False)
    chart.x_labels = [_short(c.name) for c in criteria]
    for name, row in zip(members, scores):
        points = []
        for criterion, value in zip(criteria, row):
            if value is None:
                points.append(None)
            else:
                points.append({"value": float(value), "color": heatmap_color(value, criterion.max_score),
                               "label": f"{name}: {criterion.name}"})
        chart.add(_short(name, 24), points)
    return _clean(chart.render())


def distribution_svg(criteria: list[ChartCriterion], values: list[list], *, title: str) -> bytes:
    """values[c]: every score given on criterion c (any number of proposals and members). One box per criterion:
    the lowest and highest score, the quartiles and the median."""
    style = Style(colors=("#0b4f8a", "#a4161a", "#2b7a3d", "#7a4b00", "#5a2d82", "#00696b"), **_BASE)
    chart = pygal.Box(style=style, width=max(420, 90 + 70 * len(criteria)), height=320, js=[], box_mode="extremes",
                      show_legend=False, x_label_rotation=20 if len(criteria) > 5 else 0, truncate_label=-1,
                      title=title, range=(0, max((c.max_score for c in criteria), default=10)),
                      disable_xml_declaration=False)
    chart.x_labels = [_short(c.name) for c in criteria]
    for criterion, scores in zip(criteria, values):
        chart.add(_short(criterion.name), [float(v) for v in scores if v is not None])
    return _clean(chart.render())


def quartiles(values: list) -> dict | None:
    """The five figures the box shows (lowest, lower quartile, median, upper quartile, highest), computed by pygal
    itself so the data table beside the chart says what the chart draws; None when there is no score."""
    from pygal.graph.box import Box

    data = sorted(float(v) for v in values if v is not None)
    if not data:
        return None
    points, _outliers = Box._box_points(data, "extremes")
    low, q1, median, q3, high = points[1:6]
    return {"min": Decimal(str(low)), "q1": Decimal(str(q1)), "median": Decimal(str(median)),
            "q3": Decimal(str(q3)), "max": Decimal(str(high)), "n": len(data)}
