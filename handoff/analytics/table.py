"""A KPI result: named columns and rows, as JSON or CSV."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any


def clean(value: Any) -> Any:
    """Database values as JSON-friendly ones: ISO dates, plain numbers (6 significant
    decimals at most)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float):
        return round(value, 4)
    return value


@dataclass
class Table:
    name: str
    columns: list[str]
    rows: list[dict[str, Any]] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)

    def add(self, **values: Any) -> None:
        self.rows.append({c: clean(values.get(c)) for c in self.columns})

    def json(self) -> dict[str, Any]:
        return {"table": self.name, "columns": self.columns, "rows": self.rows, **self.notes}

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(self.columns)
        for row in self.rows:
            writer.writerow(["" if row[c] is None else _safe(row[c]) for c in self.columns])
        return out.getvalue()


def _safe(value: Any) -> Any:
    """Text a spreadsheet would run as a formula is quoted (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
