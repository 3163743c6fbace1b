"""What the curator's commands print: the import review (and, later, corrections).

Plain text for a terminal. The review lists every speaker and organisation an import
created, so an odd name (a role glued to a name, a name cut in two) is seen at once.
"""

from __future__ import annotations

from collections.abc import Sequence

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
