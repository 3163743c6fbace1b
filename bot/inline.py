"""Inline mode: ``@TheBot query`` in any chat offers matching quotes to drop in.

A query that is a quote number (``7`` or ``#7``, what the Share button types) offers that
quote first. A result lands in someone else's chat, where ``/quote`` reaches no bot, so its
pointer to the full text is the deep link that opens the quote in the bot's own chat.
"""

from __future__ import annotations

import random
import re

from telegram import InlineQueryResultArticle, InputTextMessageContent, Update

from bot import render
from bot.context import Context
from bot.search.service import Hit

PAGE_SIZE = 20
MAX_RESULTS = 200  # deep enough for anyone scrolling; Telegram caps each answer at 50
_NUMBER = re.compile(r"#?(\d{1,9})")


async def on_inline_query(update: Update, context: Context) -> None:
    inline = update.inline_query
    if inline is None:
        return
    text = " ".join(inline.query.split())[:256]
    offset = int(inline.offset) if re.fullmatch(r"\d{1,4}", inline.offset or "") else 0
    lookup = context.bot_data.lookup
    number = _NUMBER.fullmatch(text)
    if number and text.startswith("#"):
        hits = await by_number(context, int(number.group(1)), [])
    elif text:
        # Fetch this page and the next (+1 to know whether another follows): the lookup
        # remembers the answer, so the next page costs no second search.
        limit = min(offset + 2 * PAGE_SIZE + 1, MAX_RESULTS)
        hits = (await lookup.search(text, limit=limit)).hits
        if number:
            hits = await by_number(context, int(number.group(1)), hits)
    else:
        hits = await varied_selection(context, seed=inline.from_user.id)
    page = hits[offset : offset + PAGE_SIZE]
    more = offset + PAGE_SIZE < min(len(hits), MAX_RESULTS)
    next_offset = str(offset + PAGE_SIZE) if more else ""
    bot_username = context.bot.username
    await inline.answer(
        [article(hit, bot_username) for hit in page],
        # None, not "": with Defaults set, PTB 21.2+ sends an empty string parameter as "[]"
        # (it takes "" for an empty list of poll options; python-telegram-bot issue #4295),
        # and clients would then ask for offset "[]" - the first page again, endlessly.
        next_offset=next_offset or None,
        cache_time=30 if text else 5,
        # The results are in the user's language (source lines, buttons): Telegram must not
        # hand one user's cached answer to another.
        is_personal=True,
    )


async def varied_selection(context: Context, seed: int) -> list[Hit]:
    """One random quote from each of up to PAGE_SIZE speakers, shuffled per user: an empty
    query shows the range of voices."""
    store, rng = context.bot_data.store, random.Random(seed)
    speakers = await context.bot_data.lookup.speakers()
    picked = rng.sample(speakers, min(PAGE_SIZE, len(speakers)))
    ids = [
        quote_id
        for speaker in picked
        if (quote_id := await store.random_quote_id(speaker_ids=[speaker.id], rng=rng))
    ]
    return [Hit(quote, 100.0, ()) for quote in await store.get_quotes(ids)]


async def by_number(context: Context, number: int, hits: list[Hit]) -> list[Hit]:
    """Quote ``number`` (when it exists) first, then ``hits``: ``#7`` asks for the quote
    only (no hits); a bare ``7`` may also be words of a quote (a year, an article number)."""
    found = await context.bot_data.store.get_quote(number)
    rest = [hit for hit in hits if hit.quote.id != number]
    return [Hit(found, 100.0, ()), *rest] if found else rest


def article(hit: Hit, bot_username: str) -> InlineQueryResultArticle:
    quote = hit.quote
    preview = " ".join(quote.text.split())
    return InlineQueryResultArticle(
        id=f"q{quote.id}",
        title=f"#{quote.id} {quote.speaker}: {preview[:60]}{'…' if len(preview) > 60 else ''}"[
            :120
        ],
        description=render.source_summary(quote.publication)[:100],
        input_message_content=InputTextMessageContent(
            render.render_quote(quote, bot_username=bot_username)
        ),
        reply_markup=render.share_keyboard(quote),
    )
