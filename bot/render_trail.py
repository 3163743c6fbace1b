"""The user-facing strings of corrections (issue 11 §6): a withdrawn quote, a quote's
history, reports and what the curators receive. HTML, escaped, within Telegram's limits
(split like every other reply by :func:`bot.render.split_text`)."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.corrections import REPORTS_PER_HOUR, Change, Report
from bot.i18n import N_, _, ngettext
from bot.render import MAX_MESSAGE, day, deep_link, e, plain_length, render_quote
from bot.store import StoredQuote

_SHOWN = 300  # characters of a before/after value shown in /history


def withdrawn_notice(quote: StoredQuote) -> str:
    """What ``/quote N``, ``/cite N`` and an old deep link get for a withdrawn quote."""
    assert quote.withdrawn is not None
    # The curator's reason stays in the language it was written in.
    return _(
        "Quote #{id} was withdrawn on {date}: {reason}\n<i>/history {id} shows what changed.</i>"
    ).format(id=quote.id, date=day(quote.withdrawn.at), reason=e(quote.withdrawn.reason))


def _value(text: str) -> str:
    text = " ".join(text.split())
    if not text:
        return _("<i>(empty)</i>")
    return _("“{word}”").format(word=e(text if len(text) <= _SHOWN else text[:_SHOWN] + "…"))


def history_messages(quote: StoredQuote, changes: Sequence[Change]) -> list[str]:
    """``/history N``: every change, oldest first, with its date and reason."""
    if not changes:
        return [
            _("Quote #{id} has not been corrected or withdrawn since it was added.").format(
                id=quote.id
            )
        ]
    lines = [
        ngettext(
            "<b>History of quote #{id}</b> — {count} change:",
            "<b>History of quote #{id}</b> — {count} changes:",
            len(changes),
        ).format(id=quote.id, count=len(changes))
    ]
    for change in changes:
        when = day(change.at)
        if change.action == "withdraw":
            lines.append(
                _("• {date}: withdrawn — {reason}").format(date=when, reason=e(change.reason))
            )
        else:
            lines.append(
                _("• {date}: {field} corrected from {before} to {after} — {reason}").format(
                    date=when,
                    field=e(change.field),
                    before=_value(change.before),
                    after=_value(change.after),
                    reason=e(change.reason),
                )
            )
    # One message per ~3800 characters, cut between changes (never inside a tag).
    messages: list[str] = []
    for line in lines:
        if messages and len(messages[-1]) + len(line) < 3800:
            messages[-1] += "\n" + line
        else:
            messages.append(line)
    return messages


# Translated where sent: _(REPORT_USAGE).
REPORT_USAGE = N_(
    "Tell me which quote and what is wrong, e.g. "
    "<code>/report 7 the date should be 2013-07-22</code>."
)
HISTORY_USAGE = N_("Give a quote number, e.g. <code>/history 7</code>.")


def too_many_reports() -> str:
    return ngettext(
        "You have sent {count} report in the last hour, the most I take. "
        "Thank you — please send more later.",
        "You have sent {count} reports in the last hour, the most I take. "
        "Thank you — please send more later.",
        REPORTS_PER_HOUR,
    ).format(count=REPORTS_PER_HOUR)


def report_received(report: Report) -> str:
    return _(
        "Thank you. Your report #{report} about quote #{id} was passed on to the curators; "
        "a correction will show under the quote and in /history {id}."
    ).format(report=report.id, id=report.quote_id)


def report_for_admins(report: Report, quote: StoredQuote, bot_username: str | None) -> str:
    """What each QUOTEBOT_ADMINS user receives: the report, who sent it, then the quote.
    Curators' text: in English (bot/trail.py sends it in English, whoever reported)."""
    who = e(report.user_name) if report.user_name else "a user"
    lines = [
        f"⚑ <b>Report #{report.id}</b> about quote #{quote.id}",
        f"from {who} (id {report.user_id}, chat {report.chat_id}):",
        f"<blockquote>{e(report.text)}</blockquote>",
        "",
    ]
    close = ["", f"<i>Close it with: quotebot reports close {report.id} --reason '…'</i>"]
    if quote.withdrawn:
        return "\n".join([*lines, withdrawn_notice(quote), *close])
    full = "\n".join([*lines, render_quote(quote, bot_username=bot_username), *close])
    if plain_length(full) <= MAX_MESSAGE:
        return full
    # A long quote and a long report: the quote's start, and the button opens the rest.
    start = " ".join(quote.text.split())[:300]
    return "\n".join([*lines, f"<blockquote>{e(start)}…</blockquote>", *close])


def report_keyboard(quote_id: int, bot_username: str | None) -> InlineKeyboardMarkup | None:
    """A button that opens the reported quote in the bot's chat (``/history N`` there
    lists its changes)."""
    if not bot_username:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(f"Open #{quote_id}", url=deep_link(bot_username, quote_id)),
            ]
        ]
    )
