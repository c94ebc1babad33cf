"""Charts of a KPI over time, rendered to SVG on the server with pygal (no script; the page pairs each chart with a
data table as its text alternative)."""
from __future__ import annotations

import re
import sys

import pygal
from pygal.style import Style

# pygal appends a legacy sys.meta_path finder (for its map plugins, unused here) that makes every later failed
# import lookup in the process raise ImportWarning (an error under the tests' filterwarnings): take it out again.
sys.meta_path[:] = [finder for finder in sys.meta_path if type(finder).__name__ != "PluginImportFixer"]

from contracts.queries import KpiHistory

_STYLE = Style(background="#ffffff", plot_background="#ffffff", foreground="#1b1f24", foreground_strong="#1b1f24",
               foreground_subtle="#4a5360", colors=("#0b4f8a", "#a4161a"), font_family="sans-serif",
               label_font_size=12, major_label_font_size=12, legend_font_size=13, title_font_size=14)


def kpi_chart_svg(history: KpiHistory, *, title: str, reported: str, target: str, for_print: bool = False) -> bytes:
    """A line of the reported figures against the target line; missed periods are the points past the target.
    for_print: for a PDF (WeasyPrint draws SVG without pygal's stylesheet): no guide lines, fewer scale labels."""
    options = {"show_y_guides": False, "max_scale": 6, "min_scale": 3, "stroke_style": {"width": 2}} \
        if for_print else {}
    chart = pygal.Line(style=_STYLE, width=720, height=300, js=[], disable_xml_declaration=False,
                       show_legend=True, legend_at_bottom=True, x_label_rotation=0, dots_size=3,
                       show_minor_x_labels=False, truncate_label=-1, title=title, **options)
    labels = [period.strftime("%Y-%m") for period, _r in history.points]
    chart.x_labels = labels
    chart.x_labels_major = labels[::3]
    chart.add(reported, [float(r.value) for _p, r in history.points])
    chart.add(target, [float(history.kpi.target)] * len(labels), show_dots=False, stroke_style={"dasharray": "6, 4"})
    # pygal writes its configuration into a <script> even with js=[]: the chart needs none (and CHART_CSP runs none).
    return re.sub(rb"<script\b.*?</script>", b"", chart.render(), flags=re.S)
