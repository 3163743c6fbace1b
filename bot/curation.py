"""What the curator's commands print: the import review, corrections, history, reports.

Plain text for a terminal. The review lists every speaker and organisation an import
created, so an odd name (a role glued to a name, a name cut in two) is seen at once.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.corrections import Change, Report
from bot.importing import ImportReport


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A plain ``a | b | c`` table with aligned columns."""
    widths = [max(len(str(r[i])) for r in (header, *rows)) for i in range(len(header))]
    return [
        " | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in (header, *rows)
    ]


def review_lines(report: ImportReport) -> list[str]:
    """The import's summary and review: new speakers (name | role | organisation | quotes)
    and new organisations; with ``dry_run``, said to be what would happen."""
    would = "would be " if report.dry_run else ""
    lines = [f"{report.source}: {report.added} {would}added, {report.unchanged} already present"]
    if report.new_speakers:
        lines += ["", f"New speakers ({len(report.new_speakers)}):"]
        rows = [
            (s.name, s.role or "—", s.organisation or "—", str(s.quotes))
            for s in report.new_speakers
        ]
        lines += ["  " + r for r in table(("name", "role", "organisation", "quotes"), rows)]
    else:
        lines += ["", "New speakers: none"]
    if report.new_organisations:
        lines += ["", f"New organisations ({len(report.new_organisations)}):"]
        lines += [f"  {name}" for name in report.new_organisations]
    else:
        lines += ["New organisations: none"]
    if report.dry_run:
        lines += ["", "Dry run: nothing was written. Run again without --dry-run to import."]
    return lines


# -- corrections ------------------------------------------------------------------------------


def _shown(value: str, limit: int = 200) -> str:
    value = " ".join(value.split())
    return f"“{value if len(value) <= limit else value[:limit] + '…'}”" if value else "(empty)"


def change_lines(changes: Sequence[Change]) -> list[str]:
    """One line per change: when, what, before → after, why."""
    lines = []
    for c in changes:
        if c.action == "withdraw":
            lines.append(f"  {c.at}  withdrawn — {c.reason}")
        else:
            lines.append(
                f"  {c.at}  {c.field}: {_shown(c.before)} → {_shown(c.after)} — {c.reason}"
            )
    return lines


def report_lines(reports: Sequence[Report]) -> list[str]:
    if not reports:
        return ["No open reports."]
    lines = [f"Open reports ({len(reports)}):"]
    for r in reports:
        who = f"{r.user_name} ({r.user_id})" if r.user_name else str(r.user_id)
        lines.append(f"  #{r.id}  quote #{r.quote_id}  {r.created_at}  from {who}: {r.text}")
    lines.append("Close one with: quotebot reports close ID --reason '…'")
    return lines
