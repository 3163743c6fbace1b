"""Due-time arithmetic for daily quotes: local wall-clock times, zoneinfo, DST; and reading
the zone a user typed (Area/City, a whole-hour ``UTC+3``, a bare city to suggest). Pure
functions.

A subscription says "HH:MM in Area/City". Deliveries are counted per *local date*: each local
date gets one quote, due at that date's HH:MM. Two DST cases need a rule:

* the wall time does not exist that day (spring forward skips 02:00-03:00, subscription at
  02:30): it is due at the same distance past the gap's start, 03:30, as Python's ``fold=0``
  maps it. Still that local date, so that day still gets its quote, once.
* the wall time happens twice (fall back repeats 02:00-03:00): due at the first occurrence;
  the per-date delivery record makes the second occurrence a no-op.
"""

from __future__ import annotations

import difflib
import re
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

_TIME = re.compile(r"([01]?\d|2[0-3])[:.h]([0-5]\d)")
# IANA names: Area/City, Area/Sub/City, or a few single words (UTC, GMT, Etc/...).
_ZONE = re.compile(r"[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+){0,2}")


def parse_time(text: str) -> time | None:
    """``HH:MM`` (also ``H:MM``, ``HH.MM``, ``HHhMM``) as a naive time, else None."""
    match = _TIME.fullmatch(text.strip())
    if match is None:
        return None
    return time(int(match.group(1)), int(match.group(2)))


def parse_zone(name: str) -> ZoneInfo | None:
    """An IANA time zone by name, case-insensitively for the usual spellings, else None."""
    name = name.strip()
    if not _ZONE.fullmatch(name) or len(name) > 64:
        return None  # also keeps "../" and odd paths away from zoneinfo's file lookup
    for candidate in (name, _title_case(name), name.upper()):
        try:
            return ZoneInfo(candidate)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            continue
    return None


def _title_case(name: str) -> str:
    # europe/paris -> Europe/Paris, america/new_york -> America/New_York
    parts = name.split("/")
    return "/".join("_".join(w[:1].upper() + w[1:].lower() for w in p.split("_")) for p in parts)


def format_time(at: time) -> str:
    return f"{at.hour:02d}:{at.minute:02d}"


def local_date(now: datetime, tz: ZoneInfo) -> date:
    """The calendar date in ``tz`` at instant ``now`` (aware)."""
    return now.astimezone(tz).date()


def due_at(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant at which ``day``'s quote is due (see the module doc for DST gaps)."""
    # fold=0: in a gap Python uses the offset from before the transition, which lands the
    # instant after the gap by the same distance; in a repeated hour, the first occurrence.
    wall = datetime.combine(day, at, tzinfo=tz).replace(fold=0)
    return wall.astimezone(UTC)


def end_of_day(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant at which local ``day`` ends (the next local midnight, or gap end)."""
    return due_at(day + timedelta(days=1), time(0, 0), tz)


def first_due(at: time, tz: ZoneInfo, now: datetime, *, done_today: bool) -> tuple[date, datetime]:
    """The next delivery for a new or changed subscription: today if today's time is still
    ahead and today's quote was not delivered yet, else tomorrow."""
    today = local_date(now, tz)
    due = due_at(today, at, tz)
    if due > now and not done_today:
        return today, due
    return next_after(today, at, tz)


def next_after(day: date, at: time, tz: ZoneInfo) -> tuple[date, datetime]:
    """The delivery after ``day``'s: the next local date's."""
    following = day + timedelta(days=1)
    return following, due_at(following, at, tz)


def catch_up(day: date, at: time, tz: ZoneInfo, now: datetime) -> tuple[date, datetime, bool]:
    """Where a due subscription stands after downtime.

    ``day`` is the local date its next delivery was for. Returns ``(day, due, send_now)``:
    the same day if it is still that day locally (a late delivery, the same day); today if
    the bot was down past the end of ``day`` (missed days are not sent all at once), due now
    when today's time has passed, otherwise at today's time.
    """
    today = local_date(now, tz)
    if day >= today:
        due = due_at(day, at, tz)
        return day, due, due <= now
    due = due_at(today, at, tz)
    return today, due, due <= now


_OFFSET = re.compile(r"(?:UTC|GMT)?\s*([+\-−])\s*(\d{1,2})(?::?([0-5]\d))?", re.IGNORECASE)
_FIXED = re.compile(r"Etc/GMT([+-])(\d{1,2})")


def parse_offset(text: str) -> str | tuple[int, int] | None:
    """``UTC+3``, ``GMT-5``, ``+03:00``: the IANA fixed-offset zone for a whole-hour offset
    (``Etc/GMT-3``: POSIX signs, inverted), ``(hours, minutes)`` for an offset that is not
    a whole hour (IANA has no fixed zone for it), None when ``text`` is not an offset."""
    match = _OFFSET.fullmatch(text.strip())
    if match is None:
        return None
    sign = -1 if match.group(1) in "-−" else 1
    hours, minutes = int(match.group(2)), int(match.group(3) or 0)
    if minutes or not -12 <= sign * hours <= 14:
        return (sign * hours, minutes)
    if hours == 0:
        return "Etc/UTC"
    return f"Etc/GMT{'-' if sign > 0 else '+'}{hours}"


def zone_label(key: str) -> str:
    """How a zone is shown: ``Etc/GMT-3`` as ``UTC+3`` (what the user typed), else its name."""
    match = _FIXED.fullmatch(key)
    if match is None:
        return key
    return f"UTC{'-' if match.group(1) == '+' else '+'}{int(match.group(2))}"


def is_fixed_offset(key: str) -> bool:
    return _FIXED.fullmatch(key) is not None


@lru_cache(maxsize=1)
def _zones_by_city() -> dict[str, list[str]]:
    cities: dict[str, list[str]] = {}
    for key in sorted(available_timezones()):
        if "/" in key and not key.startswith(("Etc/", "SystemV/", "posix/", "right/")):
            cities.setdefault(key.rsplit("/", 1)[1].casefold(), []).append(key)
    return cities


def suggest_zone(text: str) -> str | None:
    """The Area/City zone a bare city (``Paris``, ``new_york``, ``Pari``) most likely means."""
    city = text.strip().replace(" ", "_").casefold()
    cities = _zones_by_city()
    if city in cities:
        return cities[city][0]
    close = difflib.get_close_matches(city, list(cities), n=1, cutoff=0.8)
    return cities[close[0]][0] if close else None
