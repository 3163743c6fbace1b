"""Command handlers: parse arguments -> lookup/store -> render -> reply. Thin on purpose."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram import InlineKeyboardMarkup, MaybeInaccessibleMessage, Message, Update
from telegram.constants import ChatType
from telegram.error import Forbidden

from bot import citations, export, i18n, render, result_lists
from bot.context import Context
from bot.flood import Decision, Verdict
from bot.i18n import _
from bot.render_trail import withdrawn_notice
from bot.result_lists import ResultSet
from bot.schema import data_version
from bot.search.service import LookupResult
from bot.store import StoredQuote

log = logging.getLogger(__name__)
MAX_ARGUMENT = 300  # longer arguments are cut: no name or search needs more


def is_group(update: Update) -> bool:
    chat = update.effective_chat
    return chat is not None and chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)


async def reply(
    update: Update, texts: list[str], markup: InlineKeyboardMarkup | None = None
) -> Message | None:
    """Send ``texts`` (HTML), the keyboard on the last; in groups, answer the requester."""
    message = update.effective_message
    if message is None:
        return None
    sent = None
    for index, text in enumerate(texts):
        try:
            sent = await message.reply_text(
                text,
                reply_markup=markup if index == len(texts) - 1 else None,
                do_quote=is_group(update) and index == 0,
            )
        except Forbidden as exc:
            # Removed from the group, or blocked, while this update waited: nobody to answer.
            log.info("reply to chat %s not sent: %s", message.chat_id, exc.message)
            return None
    return sent


def argument(update: Update, context: Context) -> str:
    """The command's argument text, whitespace-normalised and cut to MAX_ARGUMENT."""
    return clean_argument(" ".join(context.args or []))


def clean_argument(text: str) -> str:
    """Control characters to spaces, whitespace normalised, cut to MAX_ARGUMENT."""
    text = re.sub(r"[\x00-\x1f\x7f]", " ", text)
    return " ".join(text.split())[:MAX_ARGUMENT]


def shows_already(
    message: MaybeInaccessibleMessage | None, html_text: str, markup: InlineKeyboardMarkup | None
) -> bool:
    """True when ``message`` already shows this text and keyboard. Telegram refuses such an
    edit ("message is not modified"): a second press of a button whose edit is done, or a
    press on an older copy of a message since edited (the callback carries the current one)."""
    if not isinstance(message, Message) or message.text is None:
        return False
    return message.text == render.plain_text(html_text).strip() and message.reply_markup == markup


def flood_check(
    update: Update, context: Context, command: str, *, repeatable: bool, exempt: bool = False
) -> Decision:
    """The flood guard's decision for this update's user (see :mod:`bot.flood`)."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None:
        return Decision(Verdict.SILENT)
    return context.bot_data.flood.check(
        chat.id,
        user.id if user else 0,
        # After /lang the same command has a new answer: not a repeat.
        f"{command} [{i18n.current()}]",
        private=not is_group(update),
        repeatable=repeatable,
        exempt=exempt,
    )


async def guarded(
    update: Update, context: Context, command: str, *, repeatable: bool = False
) -> bool:
    """True when this command should be answered. ``repeatable`` (lookups): the same command
    from the same user moments ago got the same answer, so it is answered once -- unless
    the statements changed in between (an import or a correction from another process),
    which the repeat key carries. Never for commands that change state or vary (/random)."""
    if repeatable:
        command += f" @{await context.bot_data.store.run(data_version)}"
    decision = flood_check(update, context, command, repeatable=repeatable)
    if decision.verdict is Verdict.SLOW_DOWN:
        await reply(update, [render.slow_down(decision.wait)])
    return decision.answer


async def guarded_always(update: Update, context: Context, command: str) -> str | None:
    """/help and /start: answered even over the allowance. None for a repeat (stay silent);
    otherwise the line to add to the answer ("" when the user is within the allowance)."""
    decision = flood_check(update, context, command, repeatable=True, exempt=True)
    if not decision.answer:
        return None
    return render.over_limit_note(decision.wait) if decision.wait else ""


async def show_results(
    update: Update,
    context: Context,
    result: LookupResult,
    what: str,
    query: str,
    *,
    heading: str | None = None,
    note: str = "",
    export_data: str = "",
) -> None:
    """The first of ``result``'s quotes with ◀ ▶ to page through the rest, or why none.
    ``what`` is the kind looked for ("speaker", "case", "text"); ``heading`` replaces the
    lookup's title; ``note`` is a line shown above (not kept when paging); ``export_data``:
    the list's Export button."""
    chat = update.effective_chat
    lead = f"{note}\n" if note else ""
    if not result.hits:
        suggestions = [(s.label, s.command, s.query) for s in result.suggestions]
        text, markup = render.nothing_found(what, query, suggestions)
        await reply(update, [lead + text], markup)
        return
    hits, total = result.hits, len(result.hits)
    heading = heading or render.result_heading(result.title, total, result.set_aside)
    omit = buttons_to_this_list(result, what)
    token = await context.bot_data.results.put(
        context.bot_data.store,
        ResultSet(
            chat_id=chat.id if chat else 0,
            quote_ids=tuple(h.quote.id for h in hits),
            spans=tuple(h.matched for h in hits),
            heading=heading,
            omit=omit,
            export=export_data,
        ),
    )
    first = hits[0]
    text = render.render_quote(
        first.quote, matched=first.matched, position=(1, total), heading=heading
    )
    keyboard = render.pager_keyboard(token, 0, total, first.quote, omit=omit, export=export_data)
    await reply(update, [lead + text], keyboard)


def buttons_to_this_list(result: LookupResult, what: str) -> tuple[str, ...]:
    """Callback data of the buttons that would only open this list again: "More by Julia
    Hall" under Julia Hall's own quotes, "Case: X" under case X's."""
    if what == "speaker":
        speakers = {hit.quote.speaker_id for hit in result.hits}
        if len(speakers) == 1:
            return (render.speaker_button_data(speakers.pop()),)
    if what == "case" and result.title:
        return (render.case_button_data(result.title),)
    return ()


async def start(update: Update, context: Context) -> None:
    payload = context.args[0] if context.args else ""
    note = await guarded_always(update, context, f"/start {payload}")
    if note is None:
        return
    # Over the allowance, a deep link's lookup waits; the welcome and when to continue do not.
    if not note and (match := re.fullmatch(r"q_(\d{1,9})", payload)):
        await send_quote(update, context, int(match.group(1)))
        return
    if not note and (match := re.fullmatch(r"case_([A-Za-z0-9_-]{1,60})", payload)):
        await run_case(update, context, match.group(1).replace("_", " "))
        return
    user = update.effective_user
    await reply(
        update,
        [render.welcome_text(user.first_name if user else None) + note],
        render.welcome_keyboard(),
    )


async def help_command(update: Update, context: Context) -> None:
    note = await guarded_always(update, context, "/help")
    if note is not None:
        await reply(update, [render.help_text(context.bot.username) + note])


Runner = Callable[[Update, Context, str], Awaitable[None]]


async def run_who(update: Update, context: Context, query: str) -> None:
    if not query:
        text, markup = render.speakers_listing(await context.bot_data.lookup.speakers())
        await reply(update, [text], markup)
        return
    result = await context.bot_data.lookup.who(query)
    data = render.export_data("w", query)
    await show_results(update, context, result, "speaker", query, export_data=data)


async def run_case(update: Update, context: Context, query: str) -> None:
    if not query:
        text, markup = render.cases_listing(await context.bot_data.lookup.cases())
        await reply(update, [text], markup)
        return
    result = await context.bot_data.lookup.case(query)
    data = render.export_data("c", query)
    await show_results(update, context, result, "case", query, export_data=data)


async def run_search(update: Update, context: Context, query: str) -> None:
    if not query:
        await reply(update, [_(render.USAGE["search"])])
        return
    result = await context.bot_data.lookup.search(query)
    heading = render.search_heading(query, len(result.hits), result.set_aside)
    data = render.export_data("t", query)
    await show_results(update, context, result, "text", query, heading=heading, export_data=data)


PLAIN_TEXT_HINT = "plain-text-search"  # chat_hints key: the hint below was shown in this chat


async def plain_text(update: Update, context: Context) -> None:
    """Private chats only (the filter sees to it): a message that is not a command is a
    search (a bare number, ``7`` or ``#7``, is that quote, as in inline mode); the first time
    in a chat, a line says so and points to /who, /case, /help."""
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None or message.via_bot is not None:
        return  # a quote the user sent through inline mode is not a question
    query = clean_argument(message.text or "")
    if re.fullmatch(r"#?\d{1,9}", query):
        if await guarded(update, context, f"/quote {query.lstrip('#')}", repeatable=True):
            await run_quote(update, context, query)
        return
    if not query or not await guarded(update, context, f"/search {query}", repeatable=True):
        return
    note = ""
    if await result_lists.first_time(context.bot_data.store, chat.id, PLAIN_TEXT_HINT):
        note = _(render.PLAIN_TEXT_HINT)
    result = await context.bot_data.lookup.search(query)
    heading = render.search_heading(query, len(result.hits), result.set_aside)
    await show_results(update, context, result, "text", query, heading=heading, note=note)


async def run_random(update: Update, context: Context, query: str) -> None:
    hit = await context.bot_data.lookup.random(query)
    if hit is None:
        shown = query if len(query) <= 80 else query[:80] + "…"
        await reply(update, [_(render.NO_RANDOM).format(filter=render.e(shown))])
        return
    text = render.render_quote(hit.quote, heading=render.random_heading(query))
    await reply(update, [text], render.pager_keyboard("", 0, 1, hit.quote, again=query))


async def quote_from_argument(
    update: Update, context: Context, query: str, command: str
) -> StoredQuote | None:
    """The quote a ``#7``/``7`` argument names; otherwise reply why not and return None."""
    match = re.fullmatch(r"#?(\d{1,9})", query.strip())
    if match is None:
        await reply(update, [_(render.USAGE[command])])
        return None
    # Withdrawn ones too: an old citation of #7 learns it was withdrawn, and why.
    found = await context.bot_data.store.get_quote_record(int(match.group(1)))
    if found is None:
        await reply(update, [_(render.NO_SUCH_QUOTE).format(id=int(match.group(1)))])
    elif found.withdrawn:
        await reply(update, [withdrawn_notice(found)])
        return None
    return found


async def send_quote(update: Update, context: Context, quote_id: int) -> None:
    await run_quote(update, context, str(quote_id))


async def run_quote(update: Update, context: Context, query: str) -> None:
    if found := await quote_from_argument(update, context, query, "quote"):
        await reply(update, render.render_quote_full(found), render.pager_keyboard("", 0, 1, found))


async def run_cite(update: Update, context: Context, query: str) -> None:
    """``/cite N [style]``: the quote's citation in a style (citations.STYLES); ``/cite apa 7``
    is understood too."""
    number, _space, asked = query.partition(" ")
    if not re.fullmatch(r"#?\d{1,9}", number) and re.fullmatch(r"#?\d{1,9}", asked):
        number, asked = asked, number
    style = citations.parse_style(asked) if asked else citations.Style.PLAIN
    if style is None and re.fullmatch(r"#?\d{1,9}", number):
        await reply(update, [render.unknown_style(asked)])
        return
    if (found := await quote_from_argument(update, context, number, "cite")) and style:
        await send_citation(update, found, style)


async def send_citation(update: Update, quote: StoredQuote, style: citations.Style) -> None:
    if style is citations.Style.PLAIN:
        await reply(update, render.cite_message(quote))
        return
    label = citations.LABELS[style]
    if style in citations.PROCESSED:
        processed = await asyncio.to_thread(citations.process, quote, style)
        text = render.cite_processed(quote, processed)
    else:
        text = render.cite_code(quote, label, citations.entry(quote, style))
    if len(text) <= render.MAX_MESSAGE:
        await reply(update, [text])
        return
    name, body = citations.as_file(quote, style)
    await send_document(update, name, body.encode(), render.cite_as_file_caption(quote, label))


async def send_document(update: Update, name: str, data: bytes, caption: str) -> Message | None:
    """Upload ``data`` as the file ``name`` (HTML caption); in groups, answer the requester."""
    message = update.effective_message
    if message is None:
        return None
    return await message.reply_document(
        document=data,
        filename=name,
        caption=caption,
        do_quote=is_group(update),
    )


async def run_export(update: Update, context: Context, query: str) -> None:
    """``/export FILTER [md|csv|csl]``: one document of every quote the filter selects."""
    filter_text, fmt = export.split_format(query)
    if not filter_text:
        await reply(update, [_(render.USAGE["export"])])
        return
    await send_export(update, context, export.Kind.SEARCH, filter_text, fmt)


async def send_export(
    update: Update,
    context: Context,
    kind: export.Kind,
    query: str,
    fmt: export.Format,
    *,
    say_nothing_found: bool = True,
) -> bool:
    """The export of ``kind``/``query`` (a filter, or a result list's query) as a document;
    False when nothing matches (said in the chat if ``say_nothing_found``)."""
    cap = export.BOT_CAP
    selection, result = await export.select(context.bot_data.lookup, kind, query, cap)
    if selection is None:
        if say_nothing_found:
            suggestions = [(s.label, s.command, s.query) for s in result.suggestions]
            text, markup = render.nothing_found("", query, suggestions)
            await reply(update, [text], markup)
        return False
    when = dt.datetime.now(dt.UTC)
    document = export.build(selection, fmt, when, cap=cap)
    if len(document.data) > export.MAX_UPLOAD:
        await reply(update, [_(render.EXPORT_TOO_LARGE)])
        return True
    caption = render.export_caption(
        selection.what,
        selection.title,
        len(selection.quotes),
        export.LABELS[fmt],
        export.stamp(when),
        cap if selection.truncated else None,
    )
    await send_document(update, document.file_name, document.data, caption)
    return True


RUNNERS: dict[str, Runner] = {
    "who": run_who,
    "case": run_case,
    "search": run_search,
    "random": run_random,
    "quote": run_quote,
    "cite": run_cite,
    "export": run_export,
}


# Same question, same answer (until the statements change): a repeat moments later from the
# same user is a double tap. Not /random (asking again is the point), nor anything new by
# default: a command that changes state must never be suppressed.
LOOKUPS = frozenset({"who", "case", "search", "quote", "cite", "export"})


def command(name: str) -> Callable[[Update, Context], Coroutine[Any, Any, None]]:
    """The PTB callback for ``/name argument``: flood guard, then the command's runner."""
    runner = RUNNERS[name]

    async def handle(update: Update, context: Context) -> None:
        query = argument(update, context)
        if await guarded(update, context, f"/{name} {query}", repeatable=name in LOOKUPS):
            await runner(update, context, query)

    handle.__name__ = name
    return handle


async def unknown(update: Update, context: Context) -> None:
    """Private chats only (the filter sees to it): point to /help."""
    if await guarded(update, context, "/unknown", repeatable=True):
        await reply(update, [_(render.UNKNOWN_COMMAND)])
