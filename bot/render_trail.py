"""The user-facing strings of corrections (issue 11 §6): a withdrawn quote, a quote's
history, reports and what the curators receive. HTML, escaped, within Telegram's limits
(split like every other reply by :func:`bot.render.split_text`)."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.corrections import REPORTS_PER_HOUR, Change, Report
from bot.render import MAX_MESSAGE, day, deep_link, e, plain_length, render_quote
from bot.store import StoredQuote

_SHOWN = 300  # characters of a before/after value shown in /history


def withdrawn_notice(quote: StoredQuote) -> str:
    """What ``/quote N``, ``/cite N`` and an old deep link get for a withdrawn quote."""
    assert quote.withdrawn is not None
    return (
        f"Quote #{quote.id} was withdrawn on {day(quote.withdrawn.at)}: "
        f"{e(quote.withdrawn.reason)}\n<i>/history {quote.id} shows what changed.</i>"
    )


def _value(text: str) -> str:
    text = " ".join(text.split())
    if not text:
        return "<i>(empty)</i>"
    return f"“{e(text if len(text) <= _SHOWN else text[:_SHOWN] + '…')}”"


def history_messages(quote: StoredQuote, changes: Sequence[Change]) -> list[str]:
    """``/history N``: every change, oldest first, with its date and reason."""
    if not changes:
        return [f"Quote #{quote.id} has not been corrected or withdrawn since it was added."]
    lines = [f"<b>History of quote #{quote.id}</b> — {len(changes)} change(s):"]
    for change in changes:
        when = day(change.at)
        if change.action == "withdraw":
            lines.append(f"• {when}: withdrawn — {e(change.reason)}")
        else:
            lines.append(
                f"• {when}: {e(change.field)} corrected from {_value(change.before)} to "
                f"{_value(change.after)} — {e(change.reason)}"
            )
    # One message per ~3800 characters, cut between changes (never inside a tag).
    messages: list[str] = []
    for line in lines:
        if messages and len(messages[-1]) + len(line) < 3800:
            messages[-1] += "\n" + line
        else:
            messages.append(line)
    return messages


REPORT_USAGE = (
    "Tell me which quote and what is wrong, e.g. "
    "<code>/report 7 the date should be 2013-07-22</code>."
)
HISTORY_USAGE = "Give a quote number, e.g. <code>/history 7</code>."
TOO_MANY_REPORTS = (
    f"You have sent {REPORTS_PER_HOUR} reports in the last hour, the most I take. "
    "Thank you — please send more later."
)


def report_received(report: Report) -> str:
    return (
        f"Thank you. Your report #{report.id} about quote #{report.quote_id} was passed on "
        "to the curators; a correction will show under the quote and in "
        f"/history {report.quote_id}."
    )


def report_for_admins(report: Report, quote: StoredQuote, bot_username: str | None) -> str:
    """What each QUOTEBOT_ADMINS user receives: the report, who sent it, then the quote."""
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
