"""What participants write (names, run names, challenge titles and instructions, class names), made
harmless wherever it is shown: as Markdown it reads literally, in a CSV a spreadsheet does not run it.

    literal("![q](http://x/y.png)")     # '\\!\\[q\\]\\(http\\://x/y\\.png\\)': drawn as typed, never fetched
    csv_bytes(table)                     # '=1+1' is written as "'=1+1"
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
