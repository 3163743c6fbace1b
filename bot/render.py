"""Every user-facing string: the command table, HTML formatting, escaping, splitting, keyboards.

All user and corpus text goes through :func:`html.escape` here before it reaches Telegram.
Messages never exceed Telegram's 4096 characters; callback data never exceeds 64 bytes.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.ext import Defaults

from bot import citations, i18n
from bot.catalog import Catalog
from bot.citations import organisation_shown as organisation_shown  # also render.organisation_shown
from bot.i18n import DEFAULT, N_, NATIVE_NAMES, _, current, ngettext
from bot.provenance import Compilation, PartialDate, Publication, Status
from bot.seed_data import CATALOG_FILE, data_file
from bot.store import CaseRow, SpeakerRow, StoredQuote

# Every message the bot sends is HTML made here, with link previews off (a quote's source
# link must not turn into a preview card larger than the quote); a reply whose command was
# deleted meanwhile is still sent: PTB applies these to each call, so no call repeats them.
BOT_DEFAULTS = Defaults(
    parse_mode=ParseMode.HTML,
    link_preview_options=LinkPreviewOptions(is_disabled=True),
    allow_sending_without_reply=True,
)
MAX_MESSAGE = 4096
MAX_CALLBACK_BYTES = 64
# Room left for the attribution, position and cases around a quote's text.
_QUOTE_BUDGET = 3400


@dataclass(frozen=True)
class CommandSpec:
    name: str
    args: str
    description: str
    example: str
    groups: bool = True  # offered in group chats' command menu
    admin: bool = False  # only for QUOTEBOT_ADMINS; not in menus


# Descriptions and argument names are translated where shown (/help, the command menus).
COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("start", "", N_("welcome and examples"), "/start", groups=False),
    CommandSpec("help", "", N_("every command with an example"), "/help"),
    CommandSpec(
        "who",
        N_("[name|organisation]"),
        N_("quotes by a speaker or organisation"),
        "/who julia hall",
    ),
    CommandSpec("case", N_("[name]"), N_("quotes about a case"), "/case ablyazov"),
    CommandSpec(
        "search",
        N_("<text>"),
        N_("free-text search; filters who: case: org:"),
        "/search fair trial case:ablyazov",
    ),
    CommandSpec(
        "random", N_("[filter]"), N_("a random quote, optionally filtered"), "/random case:pavlov"
    ),
    CommandSpec("quote", N_("<id>"), N_("one quote by its number"), "/quote 7"),
    CommandSpec(
        "cite",
        N_("<id> [style]"),
        N_("a citation: plain, apa, chicago, csl or bibtex"),
        "/cite 7 apa",
    ),
    CommandSpec(
        "export",
        N_("<filter> [md|csv|csl]"),
        N_("a file of every matching quote with its citation"),
        "/export case:ablyazov csv",
    ),
    CommandSpec(
        "history", N_("<id>"), N_("a quote's corrections, or its withdrawal"), "/history 7"
    ),
    CommandSpec(
        "report",
        N_("<id> <what is wrong>"),
        N_("tell the curators a quote is wrong (3 an hour)"),
        "/report 7 the date is wrong",
    ),
    CommandSpec(
        "daily",
        N_("[HH:MM [Area/City] | off]"),
        N_("quote of the day for this chat"),
        "/daily 09:00 Europe/Paris",
    ),
    CommandSpec("lang", "[en|ru|kk]", N_("the language I answer in"), "/lang ru"),
    CommandSpec(
        "stats",
        "",
        N_("subscriber counts and the last broadcast"),
        "/stats",
        groups=False,
        admin=True,
    ),
)
# The bot's profile (setMyDescription: at most 512 characters; setMyShortDescription: 120).
DESCRIPTION = N_(
    "I find public statements by human-rights organisations about extradition cases "
    "(Ablyazov, Pavlov, Shalabayeva) and give them verbatim, with who said them and where "
    "they were published. Press Start, or type /help."
)
SHORT_DESCRIPTION = N_(
    "Human-rights statements on extradition cases, verbatim and with their source."
)


@functools.cache
def _spellings(language: str) -> dict[str, str]:
    return Catalog.load(data_file(CATALOG_FILE)).spellings(language)


def spelled(name: str) -> str:
    """A case's or organisation's name as the catalog writes it in the reply's language
    ("Мухтар Аблязов"), else as the source does. Never for quotes or attributions."""
    return _spellings(current()).get(name, name) if current() != DEFAULT else name


def e(text: str) -> str:
    """Escape text for Telegram's HTML parse mode."""
    return html.escape(text, quote=False)


def help_text(bot_username: str | None = None) -> str:
    lines = [_("<b>quotebot</b> serves human-rights statements, verbatim and attributed."), ""]
    for spec in COMMANDS:
        usage = e(f"/{spec.name} {_(spec.args)}".strip())
        description, example = e(_(spec.description)), e(spec.example)
        if spec.admin:
            line = _("<code>{usage}</code> — {description} (bot admins)\n   e.g. {example}")
        else:
            line = _("<code>{usage}</code> — {description}\n   e.g. {example}")
        lines.append(line.format(usage=usage, description=description, example=example))
    lines += [
        "",
        _(
            "Names forgive typos, partial names and Cyrillic (Аблязов). In any chat, type "
            "<code>@{bot} query</code> to drop a quote into the conversation, or "
            "<code>@{bot} #7</code> for quote 7; the Share button under a quote does it for "
            "you. In a private chat with me, any text you send is searched, as /search does."
        ).format(bot=e(bot_username or "botname")),
    ]
    return "\n".join(lines)


def welcome_text(first_name: str | None) -> str:
    if first_name:
        return _(
            "Hello, {name}! I find public statements by human-rights organisations about "
            "extradition cases, and give them verbatim with their attribution.\n\n"
            "Try one of these, or see /help:"
        ).format(name=e(first_name))
    return _(
        "Hello! I find public statements by human-rights organisations about extradition "
        "cases, and give them verbatim with their attribution.\n\n"
        "Try one of these, or see /help:"
    )


def welcome_keyboard() -> InlineKeyboardMarkup:
    examples = [
        ("/who amnesty", "q:w:amnesty"),
        ("/case ablyazov", "q:c:ablyazov"),
        ("/search torture", "q:s:torture"),
        ("/random", "q:r:"),
    ]
    return InlineKeyboardMarkup([[button(label, data)] for label, data in examples])


def button(label: str, data: str) -> InlineKeyboardButton:
    if len(data.encode()) > MAX_CALLBACK_BYTES:
        raise ValueError(f"callback data over {MAX_CALLBACK_BYTES} bytes: {data!r}")
    return InlineKeyboardButton(label[:60] or "…", callback_data=data)


def query_button(label: str, command: str, query: str) -> InlineKeyboardButton | None:
    """A button that runs ``/command query``; None when the query cannot fit callback data."""
    data = f"q:{command[0]}:{query}"
    if len(data.encode()) > MAX_CALLBACK_BYTES:
        return None
    return button(label, data)


def attribution(quote: StoredQuote) -> str:
    parts = [f"— <b>{e(quote.speaker)}</b>"]
    if quote.role:
        parts.append(f", {e(quote.role)}")
    if org := organisation_shown(quote):
        parts.append(f" ({e(org)})")
    return "".join(parts)


# -- where the statement was published: one line under the attribution ----------------------

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
SOURCE_NOT_RECORDED = N_("Source: not recorded")
MAX_SOURCE_LABEL = 300
# "likely": the publication is known but its exact words were not checked there (the seed:
# seen only in translation or a cut copy; an import: nobody read the page).
LIKELY_SOURCE = N_("not verified word for word")
# The kinds of publication the curators record (data/sources.toml), translated in the source
# line; any other kind is shown as recorded.
KINDS = frozenset((N_("press release"), N_("statement"), N_("news"), N_("dispatch")))


def partial_date(date: PartialDate) -> str:
    """``9 Jan 2014``, ``Aug 2013`` or ``2013``: as precise as known, never padded."""
    if date.month is None:
        return str(date.year)
    if current() != DEFAULT:  # Babel's form for the language: "9 янв. 2014 г."
        if date.day is None:
            return i18n.format_month(date.year, date.month)
        return i18n.format_date(dt.date(date.year, date.month, date.day))
    month = f"{MONTHS[date.month - 1]} {date.year}"
    return f"{date.day} {month}" if date.day is not None else month


def link(label_html: str, url: str) -> str:
    """``label_html`` (already escaped) as a link to ``url``; unlinked when there is none."""
    if not url:
        return label_html
    return f'<a href="{html.escape(url, quote=True)}">{label_html}</a>'


def compilation_site(compilation: Compilation) -> str:
    """How a compilation is named in a line: its publisher up to any parenthesis
    ("mukhtarablyazov.org"), else its web address's host."""
    name = compilation.publisher.split(" (")[0].strip()
    if not name:
        host = urlsplit(compilation.url).hostname or ""
        name = host.removeprefix("www.")
    return name or compilation.title or _("a compilation")


def _source(publication: Publication) -> tuple[str, str, str] | None:
    """(label, URL, remark) of the source line: the original (publisher · kind · date), else
    the compilation it was taken from; None when nothing is recorded."""
    if publication.publisher or publication.url or publication.title:
        # The publisher names the source; without one, the title does.
        title = f"“{publication.title}”" if publication.title else ""
        kind = _(publication.kind) if publication.kind in KINDS else publication.kind
        parts = [publication.publisher or title, kind]
        if publication.published:
            parts.append(partial_date(publication.published))
        label = " · ".join(p for p in parts if p) or urlsplit(publication.url).hostname or ""
        if len(label) > MAX_SOURCE_LABEL:  # a display cut: the link still leads to it all
            label = label[: MAX_SOURCE_LABEL - 1] + "…"
        remark = _(LIKELY_SOURCE) if publication.status is Status.LIKELY else ""
        return label, publication.url, remark
    if publication.compilation:
        compilation = publication.compilation
        label = _("compilation on {site} — original not found").format(
            site=compilation_site(compilation)
        )
        return label, compilation.url, ""
    return None


def source_line(publication: Publication) -> str:
    """The one source line every quote view shows (HTML), linked where a URL is known;
    a plain "not recorded" when nothing is — never the import file's name."""
    found = _source(publication)
    if found is None:
        return _(SOURCE_NOT_RECORDED)
    label, url, remark = found
    if remark:
        return _("Source: {source} <i>({remark})</i>").format(
            source=link(e(label), url), remark=e(remark)
        )
    return _("Source: {source}").format(source=link(e(label), url))


def source_summary(publication: Publication) -> str:
    """The source line as plain text without its address: an inline result's description,
    so the list people pick from says where each statement was published."""
    found = _source(publication)
    if found is None:
        return _(SOURCE_NOT_RECORDED)
    label, _url, remark = found
    if remark:
        return _("Source: {source} ({remark})").format(source=label, remark=remark)
    return _("Source: {source}").format(source=label)


def source_text(publication: Publication) -> str:
    """The source line as plain text (the command line), the URL in angle brackets."""
    found = _source(publication)
    if found is None:
        return _(SOURCE_NOT_RECORDED)
    label, url, remark = found
    text = _("Source: {source} ({remark})") if remark else _("Source: {source}")
    return text.format(source=label, remark=remark) + (f" <{url}>" if url else "")


def highlight(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """Escape ``text`` and wrap the matched spans in <u>…</u>; overlapping spans merge."""
    out, pos = [], 0
    for start, end in sorted(_merge(spans)):
        start, end = max(start, pos), min(end, len(text))
        if start >= end:
            continue
        out.append(e(text[pos:start]))
        out.append(f"<u>{e(text[start:end])}</u>")
        pos = end
    out.append(e(text[pos:]))
    return "".join(out)


def _merge(spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def split_text(text: str, budget: int = _QUOTE_BUDGET) -> list[tuple[int, int]]:
    """Cut points for a long quote: at sentence ends, else spaces, never inside a word."""
    pieces: list[tuple[int, int]] = []
    start = 0
    while len(text) - start > budget:
        window = text[start : start + budget]
        cut = max(window.rfind(". "), window.rfind("! "), window.rfind("? "), window.rfind("\n"))
        if cut < budget // 2:
            cut = window.rfind(" ")
        cut = budget if cut <= 0 else cut + 1
        pieces.append((start, start + cut))
        start += cut
    pieces.append((start, len(text)))
    return pieces


def result_heading(title: str | None, total: int, set_aside: Sequence[str] = ()) -> str | None:
    """``title`` and the number of quotes; ``set_aside``: words of the query that named
    something no quote has together with the rest (``/case pavlov shalabayeva``)."""
    if not title:
        return None
    heading = ngettext(
        "<b>{title}</b> — {count} quote", "<b>{title}</b> — {count} quotes", total
    ).format(title=e(spelled(title)), count=total)
    if set_aside:
        words = ", ".join(_("“{word}”").format(word=e(w)) for w in set_aside)
        heading += "\n" + _("<i>No quote matches all your words: {words} set aside.</i>").format(
            words=words
        )
    return heading


def search_heading(query: str, total: int, set_aside: Sequence[str] = ()) -> str | None:
    """``Search “torture” — 4 quotes``, like /who's and /case's headings."""
    shown = query if len(query) <= 60 else query[:60] + "…"
    return result_heading(_("Search “{query}”").format(query=shown), total, set_aside)


def random_heading(query: str) -> str:
    shown = query if len(query) <= 60 else query[:60] + "…"
    if query:
        return _("<b>Random quote for “{query}”</b>").format(query=e(shown))
    return _("<b>Random quote</b>")


def day(iso: str) -> str:
    """``2026-12-02T12:50:00Z`` (or ``2026-12-02``) as ``2 Dec 2026``."""
    year, month, date = (int(part) for part in iso[:10].split("-"))
    if current() != DEFAULT:
        return i18n.format_date(dt.date(year, month, date))
    return f"{date} {MONTHS[month - 1]} {year}"


def deep_link(bot_username: str, quote_id: int) -> str:
    """The t.me link that opens quote ``quote_id`` in a private chat with the bot."""
    return f"https://t.me/{bot_username}?start=q_{quote_id}"


def full_text_pointer(quote_id: int, bot_username: str | None) -> str:
    """Where to read the rest of a cut quote: ``/quote N`` in the bot's own chats; in an
    inline result (someone else's chat, where /quote reaches no bot) a deep link."""
    if bot_username:
        return link(_("full text"), deep_link(bot_username, quote_id))
    return _("full text: /quote {id}").format(id=quote_id)


def _quote_footer(
    quote: StoredQuote, position: tuple[int, int] | None, cut: bool, bot_username: str | None
) -> list[str]:
    """The lines under the quote: attribution, source line, then number, cases, position.

    In an inline result (``bot_username`` given) the number is the deep link that opens the
    quote in the bot's chat, so a message posted long ago still leads to its current state
    (corrected, or withdrawn and why)."""
    number = f"#{quote.id}"
    meta = [link(number, deep_link(bot_username, quote.id)) if bot_username else number]
    if quote.corrected_at:
        meta.append(_("corrected {date}").format(date=day(quote.corrected_at)))
    if quote.cases:
        cases = ", ".join(e(spelled(c)) for c in quote.cases)
        meta.append(_("Case: {cases}").format(cases=cases))
    if position:
        meta.append(f"{position[0]}/{position[1]}")
    if cut:
        meta.append(full_text_pointer(quote.id, bot_username))
    return [attribution(quote), source_line(quote.publication), "<i>" + " · ".join(meta) + "</i>"]


def plain_text(html_text: str) -> str:
    """What Telegram shows of an HTML message: the text without tags, entities decoded."""
    return html.unescape(re.sub(r"<[^>]*>", "", html_text))


def plain_length(html_text: str) -> int:
    """The length Telegram counts against 4096: the text without tags, entities decoded."""
    return len(plain_text(html_text))


def _quote_parts(
    quote: StoredQuote,
    matched: Sequence[tuple[int, int]],
    position: tuple[int, int] | None,
    heading: str | None,
    limit_parts: int | None,
    bot_username: str | None = None,
) -> list[str]:
    # The quote's share of the message is what the heading and footer leave (long roles
    # and source lines included), with room for the part label and the " …".
    framing = "\n".join([heading or "", *_quote_footer(quote, position, True, bot_username)])
    budget = max(1000, min(_QUOTE_BUDGET, MAX_MESSAGE - plain_length(framing) - 40))
    parts = split_text(quote.text, budget)
    shown = parts[:limit_parts] if limit_parts else parts
    messages = []
    for index, (start, end) in enumerate(shown):
        chunk = quote.text[start:end]
        spans = [
            (max(s, start) - start, min(t, end) - start)
            for s, t in matched
            if s < end and t > start
        ]
        body = highlight(chunk.strip(), _shift_for_strip(chunk, spans))
        lines = []
        if index == 0 and heading:
            lines.append(heading)
        if len(shown) > 1:
            lines.append(
                _("<i>part {part} of {parts}</i>").format(part=index + 1, parts=len(parts))
            )
        last = index == len(shown) - 1
        if last and len(shown) < len(parts):
            body += " …"
        lines.append(f"<blockquote>{body}</blockquote>")
        if last:
            lines += _quote_footer(quote, position, len(shown) < len(parts), bot_username)
        messages.append("\n".join(lines))
    return messages


def render_quote(
    quote: StoredQuote,
    *,
    matched: Sequence[tuple[int, int]] = (),
    position: tuple[int, int] | None = None,
    heading: str | None = None,
    bot_username: str | None = None,
) -> str:
    """The quote as one HTML message; a quote too long for one message shows its first part,
    ending between sentences, and points to /quote for the rest (with ``bot_username``, for
    inline results: to the deep link that opens it in the bot's chat)."""
    return _quote_parts(quote, matched, position, heading, 1, bot_username)[0]


def render_quote_full(quote: StoredQuote, *, heading: str | None = None) -> list[str]:
    """The whole quote: one message, or several split between sentences, never cut."""
    return _quote_parts(quote, (), None, heading, None)


def _shift_for_strip(chunk: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    lead = len(chunk) - len(chunk.lstrip())
    return [(s - lead, t - lead) for s, t in spans if t - lead > 0]


def cite_message(quote: StoredQuote) -> list[str]:
    """/cite N: the plain citation to paste (split between sentences if very long)."""
    text = citations.plain(quote)
    return [e(text[s:t].strip()) for s, t in split_text(text, 3800)]


SHARE = N_("↗ Share")


def share_button(quote: StoredQuote) -> InlineKeyboardButton:
    """Opens the chat picker with ``@bot #N`` typed: the quote, dropped into any chat."""
    return InlineKeyboardButton(_(SHARE), switch_inline_query=f"#{quote.id}")


def share_keyboard(quote: StoredQuote) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[share_button(quote)]])


DAILY_TURN_OFF = "d:stop"  # under a quote of the day: stop the daily quote, keep the message


def speaker_button_data(speaker_id: int) -> str:
    return f"w:{speaker_id}"


def case_button_data(case_name: str) -> str:
    return f"q:c:{case_name}"


def pager_keyboard(
    token: str,
    index: int,
    total: int,
    quote: StoredQuote,
    *,
    extra: bool = True,
    omit: Sequence[str] = (),
    again: str | None = None,
    export: str = "",
    turn_off: bool = False,
) -> InlineKeyboardMarkup:
    """◀ n/total ▶, then "More by <speaker>" and the quote's cases (``extra``), leaving out
    the buttons whose callback data is in ``omit``; ``again``: a "Another" button that runs
    /random with that filter once more; ``export``: the Export button's callback data;
    then the Share button; ``turn_off``: the quote of the day's "Turn off" (the same check
    as ``/daily off``)."""
    rows: list[list[InlineKeyboardButton]] = []
    if total > 1:
        nav = []
        if index > 0:
            nav.append(button("◀", f"p:{token}:{index - 1}"))
        nav.append(button(f"{index + 1}/{total}", f"n:{token}:{index}"))
        if index < total - 1:
            nav.append(button("▶", f"p:{token}:{index + 1}"))
        rows.append(nav)
    if again is not None and (another := query_button(_("🎲 Another"), "random", again)):
        rows.append([another])
    if extra:
        if (speaker := speaker_button_data(quote.speaker_id)) not in omit:
            label = _("More by {name}").format(name=quote.speaker)[:40]
            rows.append([button(label, speaker)])
        # Case buttons carry the case name; skip one whose name is too long for callback data.
        case_buttons = [
            b
            for c in quote.cases[:2]
            if case_button_data(c) not in omit
            and (b := query_button(_("Case: {cases}").format(cases=spelled(c))[:40], "case", c))
        ]
        if case_buttons:
            rows.append(case_buttons)
    if export:
        rows.append([button(_(EXPORT_BUTTON), export)])
    rows.append([share_button(quote)])
    if turn_off:
        rows.append([button(_("Turn off"), DAILY_TURN_OFF)])
    return InlineKeyboardMarkup(rows)


def speakers_listing(speakers: Sequence[SpeakerRow]) -> tuple[str, InlineKeyboardMarkup | None]:
    if not speakers:
        return _("No speakers yet."), None
    lines = [_("<b>Speakers</b> — tap one, or try <code>/who amnesty</code>:")]
    buttons = []
    for s in speakers[:40]:
        org = f" ({e(s.organisation)})" if s.organisation and s.organisation != s.name else ""
        lines.append(f"• {e(s.name)}{org} — {s.quotes}")
        buttons.append([button(f"{s.name} ({s.quotes})", f"w:{s.id}")])
    if len(speakers) > 40:
        more = len(speakers) - 40
        lines.append(
            ngettext(
                "…and {count} more: type part of a name.",
                "…and {count} more: type part of a name.",
                more,
            ).format(count=more)
        )
    return "\n".join(lines), InlineKeyboardMarkup(buttons)


def cases_listing(cases: Sequence[CaseRow]) -> tuple[str, InlineKeyboardMarkup | None]:
    if not cases:
        return _("No cases yet."), None
    lines = [_("<b>Cases</b> — tap one:")]
    buttons = []
    for c in cases[:40]:
        lines.append(f"• {e(spelled(c.name))} — {c.quotes}")
        buttons.append([button(f"{spelled(c.name)} ({c.quotes})", f"c:{c.id}")])
    return "\n".join(lines), InlineKeyboardMarkup(buttons)


def nothing_found(
    what: str, query: str, suggestions: Sequence[tuple[str, str, str]]
) -> tuple[str, InlineKeyboardMarkup | None]:
    """``what``: the kind looked for ("speaker", "case", "text"); ``suggestions``: (label,
    command, query) triples for did-you-mean buttons."""
    shown = query if len(query) <= 80 else query[:80] + "…"
    buttons = [[b] for label, cmd, q in suggestions[:6] if (b := query_button(label, cmd, q))]
    looked_for = {"speaker": NOTHING_FOR_SPEAKER, "case": NOTHING_FOR_CASE}.get(what, NOTHING)
    text = _(looked_for[bool(buttons)]).format(query=e(shown))
    return text, InlineKeyboardMarkup(buttons) if buttons else None


# nothing_found's sentences by what was looked for: (no suggestions, with suggestions).
NOTHING = (
    N_("Nothing found for text “<i>{query}</i>”. Try fewer or different words, or see /help."),
    N_("Nothing found for text “<i>{query}</i>”. Did you mean:"),
)
NOTHING_FOR_SPEAKER = (
    N_("Nothing found for speaker “<i>{query}</i>”. Try fewer or different words, or see /help."),
    N_("Nothing found for speaker “<i>{query}</i>”. Did you mean:"),
)
NOTHING_FOR_CASE = (
    N_("Nothing found for case “<i>{query}</i>”. Try fewer or different words, or see /help."),
    N_("Nothing found for case “<i>{query}</i>”. Did you mean:"),
)
# Translated where sent: _(USAGE["search"]).
USAGE = {
    "search": N_("Tell me what to look for, e.g. <code>/search fair trial case:ablyazov</code>."),
    "quote": N_("Give a quote number, e.g. <code>/quote 7</code>."),
    "cite": N_("Give a quote number, e.g. <code>/cite 7</code> or <code>/cite 7 apa</code>."),
    "export": N_(
        "Tell me what to export, e.g. <code>/export case:ablyazov</code>, "
        "<code>/export who:hall csv</code> or <code>/export org:hrw csl</code>. "
        "Formats: md (default), csv, csl."
    ),
}
UNKNOWN_COMMAND = N_("I don't know that command. /help lists what I can do.")
NO_SUCH_QUOTE = N_("There is no quote #{id}. Quote numbers are shown under each quote, e.g. #7.")
NO_RANDOM = N_(
    "No quote matches <i>{filter}</i>. "
    "Try <code>/random</code> or <code>/random case:pavlov</code>."
)
PLAIN_TEXT_HINT = N_(
    "<i>Tip: I search any text you send me, as /search does. /who finds a person, "
    "/case a case, and /help lists everything.</i>"
)
STALE_BUTTON = N_("This button has expired. Run the command again.")


def _in_seconds(seconds: int) -> str:
    if seconds < 90:
        return ngettext("{count} second", "{count} seconds", seconds).format(count=seconds)
    minutes = round(seconds / 60)
    return ngettext("{count} minute", "{count} minutes", minutes).format(count=minutes)


def slow_down(wait: int) -> str:
    """The one notice a user over the flood guard's allowance gets (see bot/flood.py)."""
    return _(
        "Too many requests from you just now — you can continue in {wait}. /help still answers."
    ).format(wait=_in_seconds(wait))


def over_limit_note(wait: int) -> str:
    """Added to /help and /start when they are answered over the allowance."""
    return "\n\n" + _("<i>You sent many requests just now: you can continue in {wait}.</i>").format(
        wait=_in_seconds(wait)
    )


ERROR = N_("Sorry, something went wrong on my side. Please try again in a moment.")


# -- /cite styles and /export --------------------------------------------------------------

EXPORT_BUTTON = N_("⬇ Export")


def export_data(kind: str, value: str) -> str:
    """The Export button's callback data ``x:<kind>:<value>``; "" (no button) when the value
    does not fit Telegram's 64 bytes. Kinds: w/c/t a /who, /case or /search query, s/k a
    speaker or case id (bot/callbacks.py)."""
    data = f"x:{kind}:{value}"
    return data if value and len(data.encode()) <= MAX_CALLBACK_BYTES else ""


EXPORT_TOO_LARGE = N_(
    "That export is larger than the 50 MB Telegram lets me send. Narrow the filter, or use "
    "<code>quotebot export</code> on the command line."
)


def unknown_style(asked: str) -> str:
    shown = asked if len(asked) <= 40 else asked[:40] + "…"
    styles = ", ".join(citations.STYLES)
    return _(
        "I don't know the citation style <i>{style}</i>. Styles: {styles} "
        "(plain is the default), e.g. <code>/cite 7 apa</code>."
    ).format(style=e(shown), styles=styles)


def provenance_warning(quote: StoredQuote) -> str | None:
    """The line that keeps a citation honest about its source, or None when verified."""
    pub = quote.publication
    if citations.cites_original(pub):
        if pub.status is Status.LIKELY:
            if pub.note:  # the curator's note, in the language it was written in
                return _("⚠️ <i>Likely source, not verified word for word. {note}</i>").format(
                    note=e(pub.note)
                )
            return _("⚠️ <i>Likely source, not verified word for word.</i>")
        return None
    if pub.compilation is not None:
        return _(
            "⚠️ <i>Original publication not found. The reference below is the compilation "
            "that quotes the statement: cite it as a secondary source (quoted in), never "
            "as the original.</i>"
        )
    return _("⚠️ <i>Original publication not found.</i>")


def cite_processed(quote: StoredQuote, processed: citations.Processed) -> str:
    """/cite N apa|chicago: the processor's reference and in-text citation."""
    lines = [f"<b>{e(processed.style_name)}</b> · #{quote.id} · {e(quote.speaker)}"]
    if warning := provenance_warning(quote):
        lines.append(warning)
    in_text = _("In text: {citation}").format(citation=e(processed.in_text))
    lines += ["", processed.reference_html, "", in_text]
    return "\n".join(lines)


def cite_code(quote: StoredQuote, label: str, body: str) -> str:
    """/cite N csl|bibtex: the entry in a code block, to copy whole."""
    lines = [f"<b>{e(label)}</b> · #{quote.id} · {e(quote.speaker)}"]
    if warning := provenance_warning(quote):
        lines.append(warning)
    lines.append(f"<pre>{e(body)}</pre>")
    return "\n".join(lines)


def cite_as_file_caption(quote: StoredQuote, label: str) -> str:
    return _("<b>{style}</b> of quote #{id}: too long for a message, so here as a file.").format(
        style=e(label), id=quote.id
    )


def export_caption(
    what: str, title: str | None, count: int, label: str, stamp: str, truncated_at: int | None
) -> str:
    """The message carrying an export (at most 1024 characters: ``what`` is shortened)."""
    shown = what if len(what) <= 80 else what[:80] + "…"
    if title and title != what:
        text = ngettext(
            "<b>{count} quote</b> for <code>{filter}</code> ({title}), exported {when}, {format}.",
            "<b>{count} quotes</b> for <code>{filter}</code> ({title}), exported {when}, {format}.",
            count,
        )
    else:
        text = ngettext(
            "<b>{count} quote</b> for <code>{filter}</code>, exported {when}, {format}.",
            "<b>{count} quotes</b> for <code>{filter}</code>, exported {when}, {format}.",
            count,
        )
    text = text.format(
        count=count, filter=e(shown), title=e(title or ""), when=e(stamp), format=e(label)
    )
    if truncated_at is not None:
        text += "\n" + _(
            "Only the first {count} are in this file; more match. "
            "<code>quotebot export</code> on the command line exports them all."
        ).format(count=f"{truncated_at:,}")
    return text


# -- /lang ---------------------------------------------------------------------------------

LANG_NOT_ADMIN = N_(
    "Only this group's admins can change the language it is answered in. Anyone can see it "
    "with /lang."
)


def language_status(chosen: str | None, group: bool) -> str:
    """/lang with no argument: the language of this reply, and why it is this one."""
    language = e(NATIVE_NAMES[current()])
    if group and chosen:
        text = _("This group is answered in <b>{language}</b>. Its admins can choose another:")
    elif group:
        text = _(
            "This group has no language set: I answer each member in the language of their "
            "Telegram app. Its admins can choose one for everyone:"
        )
    elif chosen:
        text = _("I answer you in <b>{language}</b>. Choose another:")
    else:
        text = _(
            "I answer you in <b>{language}</b>, the language of your Telegram app. Choose another:"
        )
    return text.format(language=language)


def language_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[button(name, f"l:{code}") for code, name in NATIVE_NAMES.items()]]
    )


def unknown_language(asked: str) -> str:
    shown = asked if len(asked) <= 40 else asked[:40] + "…"
    return _(
        "I don't know the language <i>{asked}</i>. I answer in English (en), Russian (ru) and "
        "Kazakh (kk), e.g. <code>/lang ru</code>."
    ).format(asked=e(shown))


def language_set(group: bool) -> str:
    """Said in the language just chosen: each catalog names its own language here."""
    if group:
        # Translators: said in the language just chosen; name that language (Russian:
        # "по-русски"), not English.
        return _("From now on I answer everyone in this group in English.")
    # Translators: said in the language just chosen; name that language, not English.
    return _("From now on I answer you in English.")
