"""Turning a prompt template plus a variable grid or CSV rows into the list of variable rows to render."""

from __future__ import annotations

import csv
import io
import itertools
import math

from django.core.exceptions import ValidationError

from campaigns.models import PromptTemplate, not_a_value

MAX_CSV_BYTES = 256 * 1024
MAX_CSV_ROWS = 5_000


def grid_size(grid: dict[str, list[str]]) -> int:
    return math.prod(len(values) for values in grid.values()) if grid else 0


def expand_grid(template: PromptTemplate, grid: dict[str, list[str]], cap: int) -> list[dict[str, str]]:
    """Every combination of the chosen values, refused before it is built when it would exceed `cap`."""
    if not isinstance(grid, dict) or not grid:
        raise ValidationError("Choose at least one value for each variable of the template.")
    declared = template.variables or {}
    needed = set(declared)
    missing = sorted(needed - set(grid))
    if missing:
        raise ValidationError(f"Choose values for {', '.join('{' + m + '}' for m in missing)}.")
    unknown = sorted(set(grid) - needed)
    if unknown:
        raise ValidationError(f"Unknown variable(s) {', '.join('{' + u + '}' for u in unknown)}.")
    for name, values in grid.items():
        if not isinstance(values, list) or not values:
            raise ValidationError(f"Choose at least one value for {{{name}}}.")
    count = grid_size(grid)
    if count > cap:
        raise ValidationError(
            f"This grid makes {count:,} clips; the limit is {cap:,} per batch: choose fewer values."
        )
    names = list(grid)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*(grid[n] for n in names))]


def rows_from_csv(template: PromptTemplate, text: str, cap: int) -> list[dict[str, str]]:
    """CSV with a header of variable names, one clip per row."""
    if len(text.encode("utf-8", "replace")) > MAX_CSV_BYTES:
        raise ValidationError(f"The CSV is larger than {MAX_CSV_BYTES // 1024} KB: split it into smaller files.")
    if "\x00" in text:
        raise ValidationError("The CSV contains NUL bytes: is it really a text file?")
    reader = csv.DictReader(io.StringIO(text))
    try:
        header = [h.strip() for h in (reader.fieldnames or [])]
    except csv.Error as exc:
        raise ValidationError(f"The CSV header cannot be read: {exc}.") from exc
    needed = set(template.variables or {})
    if set(header) != needed:
        raise ValidationError(
            f"The CSV header must name exactly the template's variables ({', '.join(sorted(needed))}); "
            f"it names {', '.join(header) or 'nothing'}."
        )
    needed_values = template.variables or {}
    rows: list[dict[str, str]] = []
    try:
        for line_number, raw in enumerate(reader, start=2):
            if len(rows) >= min(cap, MAX_CSV_ROWS):
                raise ValidationError(f"The CSV has more than {min(cap, MAX_CSV_ROWS):,} rows; the limit per batch.")
            row = {k.strip(): (v or "").strip() for k, v in raw.items() if k is not None}
            if None in raw or any(not v for v in row.values()):
                raise ValidationError(f"CSV line {line_number} has a missing or extra value.")
            for name, value in row.items():
                if value not in needed_values[name]:
                    raise ValidationError(f"CSV line {line_number}: {not_a_value(value, name, needed_values[name])}")
            rows.append(row)
    except csv.Error as exc:
        raise ValidationError(f"The CSV cannot be read near line {reader.line_num}: {exc}.") from exc
    if not rows:
        raise ValidationError("The CSV has a header but no rows.")
    return rows
