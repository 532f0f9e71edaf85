"""Business hours: "mon-fri 08:00-20:00; sat-sun 09:00-17:00" in a named time zone."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def parse_hours(spec: str) -> dict[int, list[tuple[time, time]]]:
    """Weekday (0 = Monday) -> open intervals; raises ValueError with the bad part."""
    schedule: dict[int, list[tuple[time, time]]] = {d: [] for d in range(7)}
    for part in filter(None, (p.strip() for p in spec.lower().split(";"))):
        try:
            days, span = part.split()
            first, _, last = days.partition("-")
            start_day, end_day = DAYS.index(first), DAYS.index(last or first)
            opens_s, closes_s = span.split("-")
            opens = time.fromisoformat(opens_s)
            closes = time.max if closes_s == "24:00" else time.fromisoformat(closes_s)
        except ValueError as exc:
            raise ValueError(
                f"bad business hours part {part!r}: use e.g. 'mon-fri 08:00-20:00'"
            ) from exc
        if closes <= opens:
            raise ValueError(
                f"bad business hours part {part!r}: split spans that cross midnight in two"
            )
        day = start_day
        while True:
            schedule[day].append((opens, closes))
            if day == end_day:
                break
            day = (day + 1) % 7
    return schedule


def is_open(spec: str, tz: str, now: datetime) -> bool:
    local = now.astimezone(ZoneInfo(tz))
    return any(
        opens <= local.time() < closes for opens, closes in parse_hours(spec)[local.weekday()]
    )
