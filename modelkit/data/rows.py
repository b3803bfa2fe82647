"""A table row as a person has it, and as the model's columns hold it.

    inputs = [{"name": "height_mm"}, {"name": "soil", "values": ["clay", "loam", "sand"]}]
    to_numbers(inputs, [[182.0, "loam"]])               # [[182.0, 0.0, 1.0, 0.0]]
    to_numbers(inputs, [{"soil": "loam", "height_mm": 182}])   # the same, by column name
    to_people(inputs, [[182.0, 0.0, 1.0, 0.0]])         # [[182.0, "loam"]]

`inputs` are an uploaded table's input columns in the file's order (modelkit.data.uploads keeps them): a
number column is one model column; a text column with a few values is one model column per value (one-hot,
in the order of `values`). A row already in numbers, one per model column, is taken as it is.
ValueError says in one sentence which cell cannot be read.
"""
from __future__ import annotations

import math


def width(inputs: list[dict]) -> int:
    """How many model columns the inputs make."""
    return sum(len(c["values"]) if c.get("values") else 1 for c in inputs)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _row_values(inputs: list[dict], row) -> list:
    """The row's values in the file's column order (from a dict by column name, or a list)."""
    if isinstance(row, dict):
        missing = [c["name"] for c in inputs if c["name"] not in row]
        if missing:
            raise ValueError(f"each row needs a value for every input column; missing: {', '.join(missing[:5])}")
        return [row[c["name"]] for c in inputs]
    if not isinstance(row, (list, tuple)) or len(row) != len(inputs):
        names = ", ".join(c["name"] for c in inputs)
        raise ValueError(f"each row must have {len(inputs)} values, one per input column ({names})")
    return list(row)


def _numbers_of(column: dict, value) -> list[float]:
    values = column.get("values")
    if values:
        if str(value) not in values:
            raise ValueError(f"{column['name']} must be one of: {', '.join(map(str, values))}; got {str(value)[:40]!r}")
        return [1.0 if str(value) == v else 0.0 for v in values]
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{column['name']} must be a number; got {str(value)[:40]!r}") from None
    return [number]


def to_numbers(inputs: list[dict] | None, rows) -> list:
    """Rows as the model's columns (numbers in their own units); rows already in numbers unchanged."""
    if not inputs or not isinstance(rows, (list, tuple)):
        return rows
    out = []
    for row in rows:
        if isinstance(row, (list, tuple)) and len(row) == width(inputs) and all(_is_number(v) for v in row):
            out.append(list(row))
            continue
        out.append([n for column, value in zip(inputs, _row_values(inputs, row)) for n in _numbers_of(column, value)])
    return out


def to_people(inputs: list[dict] | None, rows) -> list:
    """Rows of model columns back as a person writes them: a text column's value in place of its one-hots."""
    if not inputs or not any(c.get("values") for c in inputs):
        return [list(map(float, r)) for r in rows]
    out = []
    for row in rows:
        values, at = [], 0
        for column in inputs:
            choices = column.get("values")
            if choices:
                part = [float(v) for v in row[at:at + len(choices)]]
                values.append(choices[max(range(len(choices)), key=part.__getitem__)])
                at += len(choices)
            else:
                number = float(row[at])
                values.append(number if math.isfinite(number) else 0.0)
                at += 1
        out.append(values)
    return out
