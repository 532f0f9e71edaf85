"""The date range and granularity every KPI is computed over (UTC days, end inclusive)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

GRANULARITIES = ("day", "week", "month")
MAX_DAYS = 400
EARLIEST = date(2000, 1, 1)


class PeriodError(ValueError):
    """A range the API refuses (HTTP 422 with this message)."""


@dataclass(frozen=True)
class Period:
    start: date  # first day, inclusive
    end: date  # last day, inclusive
    granularity: str = "day"

    def __post_init__(self) -> None:
        if self.granularity not in GRANULARITIES:
            raise PeriodError(f"granularity must be one of {', '.join(GRANULARITIES)}")
        if self.end < self.start:
            raise PeriodError(f"'to' ({self.end}) is before 'from' ({self.start})")
        if self.days > MAX_DAYS:
            raise PeriodError(f"the range is {self.days} days; at most {MAX_DAYS} at a time")
        if self.start < EARLIEST:
            raise PeriodError(f"'from' must be {EARLIEST} or later")

    @classmethod
    def last(cls, days: int, granularity: str = "day", today: date | None = None) -> Period:
        today = today or datetime.now(UTC).date()
        return cls(today - timedelta(days=days - 1), today, granularity)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def since(self) -> datetime:
        """First instant of the range (UTC)."""
        return datetime.combine(self.start, time.min, tzinfo=UTC)

    @property
    def until(self) -> datetime:
        """First instant after the range (UTC): ranges are ``since <= t < until``."""
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=UTC)

    def bucket_of(self, day: date) -> date:
        if self.granularity == "week":  # ISO weeks start on Monday
            return day - timedelta(days=day.weekday())
        if self.granularity == "month":
            return day.replace(day=1)
        return day

    def buckets(self) -> list[date]:
        """Every bucket the range touches, in order (for series without gaps)."""
        found: list[date] = []
        day = self.start
        while day <= self.end:
            bucket = self.bucket_of(day)
            if not found or found[-1] != bucket:
                found.append(bucket)
            day += timedelta(days=1)
        return found
