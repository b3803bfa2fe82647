"""What participants write (names, run names, challenge titles and instructions, class names), made
harmless wherever it is shown: as Markdown it reads literally, in a CSV a spreadsheet does not run it.

    literal("![q](http://x/y.png)")     # '\\!\\[q\\]\\(http\\://x/y\\.png\\)': drawn as typed, never fetched
    csv_bytes(table)                     # '=1+1' is written as "'=1+1"
    plain_chart(fig)                     # a class "<b>x</b>" drawn as typed, not bold, in a Plotly chart
"""
from __future__ import annotations

import re

import pandas as pd

# every ASCII punctuation mark Markdown or Streamlit's directives (:red[..], :material/x:, $x$) give a meaning
_MARKUP = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$&=^\"'])")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")   # what a spreadsheet reads as the start of a formula


def literal(text) -> str:
    """`text` as Markdown that shows exactly it: every mark escaped, line breaks as spaces."""
    return _MARKUP.sub(r"\\\1", " ".join(str(text).splitlines()))


def chart_text(text) -> str:
    """`text` as a Plotly chart shows exactly it: < and > as entities, so its HTML subset (<b>, <a href>,
    <span style>) never applies. Applying it twice changes nothing."""
    return str(text).replace("<", "&lt;").replace(">", "&gt;")


_TRACE_TEXT = ("name", "x", "y", "text", "labels", "legendgrouptitle_text")


def plain_chart(fig):
    """The figure with every piece of data text as typed (chart_text): trace names, category labels and
    texts, tick labels. What modelkit writes itself in templates and titles is left alone."""
    for trace in fig.data:
        for prop in _TRACE_TEXT:
            value = getattr(trace, prop, None) if prop in trace else None
            if isinstance(value, str):
                trace[prop] = chart_text(value)
            elif value is not None and len(value) and isinstance(value[0], str):   # categories, texts
                trace[prop] = [chart_text(v) if isinstance(v, str) else v for v in value]
    for axis in [a for a in fig.layout if a.startswith(("xaxis", "yaxis"))]:
        ticks = fig.layout[axis].ticktext
        if ticks:
            fig.layout[axis].ticktext = [chart_text(v) for v in ticks]
    return fig


def csv_cell(value):
    """A cell a spreadsheet shows as text: a string starting like a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_bytes(table: pd.DataFrame) -> bytes:
    """The table as UTF-8 CSV with every text cell made safe (numbers, negative ones too, stay numbers)."""
    safe = table.copy()
    for column in safe.columns:
        if not pd.api.types.is_numeric_dtype(safe[column]):
            safe[column] = safe[column].map(csv_cell)
    safe.columns = [csv_cell(c) for c in safe.columns]
    return safe.to_csv(index=False).encode("utf-8")
