"""Button presses. Callback data is validated strictly: anything stale, forged or foreign
gets a polite ``answerCallbackQuery`` and changes nothing.

Formats (all under 64 bytes):
``p:<token>:<index>`` page through a result set · ``n:<token>:<index>`` the position label ·
``w:<speaker id>`` quotes by a speaker · ``c:<case id>`` quotes about a case ·
``q:<w|c|s|r>:<query>`` run /who, /case, /search or /random with that query ·
``x:<w|c|t>:<query>`` / ``x:<s|k>:<id>`` export what a /who, /case or /search list (or a
speaker's or case's list) holds, as one document.
"""

from __future__ import annotations

import logging
import re

from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest

from bot import export, handlers, render
from bot.context import Context
from bot.i18n import _
from bot.render_trail import withdrawn_notice
from bot.search.service import LookupResult

log = logging.getLogger(__name__)
_PAGE = re.compile(r"([pn]):([A-Za-z0-9_-]{1,16}):(\d{1,5})")
_ID = re.compile(r"([wc]):(\d{1,12})")
_QUERY = re.compile(r"q:([wcsr]):(.{0,60})", re.DOTALL)
_EXPORT = re.compile(r"x:([wct]):(.{1,60})|x:([sk]):(\d{1,12})", re.DOTALL)


async def on_button(update: Update, context: Context) -> None:
    query = update.callback_query
    if query is None:
        return
    data = query.data or ""
    if match := _PAGE.fullmatch(data):
        await _page(update, context, match.group(1), match.group(2), int(match.group(3)))
    elif match := _ID.fullmatch(data):
        if await _allowed(update, context, data):
            await _by_id(update, context, match.group(1), int(match.group(2)))
    elif match := _QUERY.fullmatch(data):
        if await _allowed(update, context, data):
            await query.answer()
            await _run_query(update, context, match.group(1), match.group(2))
    elif match := _EXPORT.fullmatch(data):
        if await _allowed(update, context, data):
            kind, value = match.group(1) or match.group(3), match.group(2) or match.group(4)
            await _export(update, context, kind, value)
    else:
        await query.answer(_(render.STALE_BUTTON))


async def _allowed(update: Update, context: Context, data: str) -> bool:
    """Presses that post a new message count like commands against the user's allowance;
    over it, the press gets a notice on the button instead of a message in the chat. (◀ ▶
    only edit their own message, so they are not counted.) Each press is its own request
    (the user asked again), so it is never a repeat."""
    query = update.callback_query
    if query is None:
        return False
    decision = handlers.flood_check(update, context, f"press {data}", repeatable=False)
    if decision.answer:
        return True
    await query.answer(render.slow_down(decision.wait)[:200])
    return False


async def _page(update: Update, context: Context, kind: str, token: str, index: int) -> None:
    query = update.callback_query
    assert query is not None
    results = await context.bot_data.results.get(context.bot_data.store, token)
    chat = update.effective_chat
    if results is None or chat is None or results.chat_id != chat.id:
        await query.answer(_(render.STALE_BUTTON))
        return
    total = len(results.quote_ids)
    if kind == "n" or not 0 <= index < total:
        await query.answer(
            _("{position} of {total}").format(position=min(index + 1, total), total=total)
        )
        return
    found = await context.bot_data.store.get_quote_record(results.quote_ids[index])
    if found is None:
        await query.answer(_(render.STALE_BUTTON))
        return
    markup = render.pager_keyboard(
        token, index, total, found, omit=results.omit, export=results.export
    )
    if found.withdrawn:  # withdrawn since the list was made: say so on its page
        text = withdrawn_notice(found)
    else:
        text = render.render_quote(
            found,
            matched=results.spans[index],
            position=(index + 1, total),
            heading=results.heading,
        )
    await query.answer()
    await edit_page(update, text, markup)


async def edit_page(update: Update, text: str, markup: InlineKeyboardMarkup) -> None:
    """Show ``text`` in the pressed message, unless it shows it already (a second press of
    the same ◀ ▶, or a press on an older copy of the message): Telegram refuses a no-op."""
    query = update.callback_query
    assert query is not None
    if handlers.shows_already(query.message, text, markup):
        return
    try:
        await query.edit_message_text(text, reply_markup=markup)
    except BadRequest as exc:
        # Two presses at the same moment can still both ask for the same page; a press
        # under a message without text (a document) cannot show a page: answered above.
        if "not modified" not in exc.message and "no text" not in exc.message:
            raise


async def _by_id(update: Update, context: Context, kind: str, target: int) -> None:
    query = update.callback_query
    assert query is not None
    lookup = context.bot_data.lookup
    result: LookupResult | None = (
        await lookup.by_speaker_id(target) if kind == "w" else await lookup.by_case_id(target)
    )
    if result is None or not result.hits:
        await query.answer(_(render.STALE_BUTTON))
        return
    await query.answer()
    data = render.export_data("s" if kind == "w" else "k", str(target))
    what = "speaker" if kind == "w" else "case"
    await handlers.show_results(update, context, result, what, "", export_data=data)


async def _run_query(update: Update, context: Context, kind: str, text: str) -> None:
    name = {"w": "who", "c": "case", "s": "search", "r": "random"}[kind]
    await handlers.RUNNERS[name](update, context, " ".join(text.split()))


_EXPORT_KINDS = {
    "w": export.Kind.WHO,
    "c": export.Kind.CASE,
    "t": export.Kind.SEARCH,
    "s": export.Kind.SPEAKER_ID,
    "k": export.Kind.CASE_ID,
}


async def _export(update: Update, context: Context, kind: str, value: str) -> None:
    """The Export button: the list's quotes as a Markdown document (other formats: /export)."""
    query = update.callback_query
    assert query is not None
    value = " ".join(value.split())
    fmt = export.Format.MARKDOWN
    kind_ = _EXPORT_KINDS[kind]
    if await handlers.send_export(update, context, kind_, value, fmt, say_nothing_found=False):
        await query.answer()
    else:
        await query.answer(_(render.STALE_BUTTON))
