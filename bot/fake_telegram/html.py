"""Telegram's own rules, stateless, for the offline fake Bot API in :mod:`bot.fake_telegram.api`.

* :func:`parse_html`: a strict parser for ``parse_mode=HTML`` returning the plain text and the
  entities (UTF-16 offsets) as the Bot API does, or raising :class:`HTMLParseError` with a
  TDLib-style reason ('Unsupported start tag "br" at byte offset 0', ...).
* :func:`message_text`, ``check_*``: payload validation raising :class:`ApiError` with the
  descriptions Telegram answers (``Bad Request: BUTTON_DATA_INVALID`` ...).
* :func:`decode_params`: Bot API parameters from a query string and a form, multipart or JSON
  body, typed the way Telegram reads them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from email import policy
from email.parser import BytesParser
from typing import Any
from urllib.parse import parse_qsl

JSON = dict[str, Any]


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


MAX_TEXT = 4096
MAX_CAPTION = 1024  # characters after entity parsing
MAX_UPLOAD = 50 * 1024 * 1024  # bytes a bot may upload with multipart/form-data
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are"
    " exactly the same as a current content and reply markup of the message"
)
QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"
CHAT_ACTIONS = _words(
    "typing upload_photo record_video upload_video record_voice upload_voice upload_document"
    " choose_sticker find_location record_video_note upload_video_note"
)
_OBJECT_FIELDS = _words(
    "reply_markup reply_parameters entities caption_entities results commands scope"
    " allowed_updates"
    " link_preview_options button"
)
_INT_FIELDS = _words(
    "chat_id message_id user_id offset limit timeout reply_to_message_id cache_time"
    " message_thread_id"
)
_BOOL_FIELDS = _words(
    "show_alert disable_notification protect_content drop_pending_updates is_personal"
    " allow_sending_without_reply disable_web_page_preview"
)
_TAG_TYPES = {
    **dict.fromkeys(("b", "strong"), "bold"),
    **dict.fromkeys(("i", "em"), "italic"),
    **dict.fromkeys(("u", "ins"), "underline"),
    **dict.fromkeys(("s", "strike", "del"), "strikethrough"),
    **dict.fromkeys(("span", "tg-spoiler"), "spoiler"),
    "a": "text_link",
    "tg-emoji": "custom_emoji",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(?:#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,8})|([a-zA-Z]{1,16}));")
_ATTR_RE = re.compile(
    r"""([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?"""
)
_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{1,32})?(?![A-Za-z0-9_@])")
_BOT_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_URL_RE = re.compile(r"(?:https?|tg)://[^\s/$.?#][^\s]*", re.IGNORECASE)
_BUTTON_ACTIONS = _words(
    "url callback_data web_app login_url switch_inline_query switch_inline_query_current_chat"
    " switch_inline_query_chosen_chat copy_text callback_game pay"
)


_SWITCH_INLINE = ("switch_inline_query", "switch_inline_query_current_chat")


class ApiError(Exception):
    """An error answer: HTTP status ``code``, ``description`` and optional ``parameters``."""

    def __init__(self, code: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters


def bad_request(reason: str) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}")


class HTMLParseError(ValueError):
    """The text is not valid Telegram HTML; ``str(exc)`` is the reason Telegram would give."""


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit of Telegram entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(source: str, index: int) -> int:
    return len(source[:index].encode("utf-8"))


def _decode_entity(match: re.Match[str]) -> str | None:
    dec, hexa, name = match.groups()
    if name is not None:
        return _NAMED_ENTITIES.get(name)
    code = int(dec) if dec is not None else int(hexa, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code)


def _unescape(source: str, start: int, end: int) -> str:
    """Decode entities in an attribute value; a bare '&' is kept, as TDLib does there."""
    out: list[str] = []
    i = start
    while i < end:
        m = _ENTITY_RE.match(source, i, end) if source[i] == "&" else None
        ch = _decode_entity(m) if m else None
        if m is not None and ch is not None:
            out.append(ch)
            i = m.end()
        else:
            out.append(source[i])
            i += 1
    return "".join(out)


@dataclass
class _Open:
    name: str
    attrs: dict[str, str]
    offset: int
    language: str = ""


def _entity_for(tag: _Open, offset: int, length: int) -> dict[str, Any] | None:
    kind = _TAG_TYPES[tag.name]
    entity: dict[str, Any] = {"type": kind, "offset": offset, "length": length}
    if tag.name == "a":
        href = tag.attrs.get("href", "")
        user = re.fullmatch(r"tg://user\?id=(\d{1,20})", href)
        if user:
            entity["type"] = "text_mention"
            entity["user"] = {"id": int(user.group(1)), "is_bot": False, "first_name": "User"}
        elif _URL_RE.fullmatch(href):
            entity["url"] = href
        else:
            return None  # Telegram silently drops links with an unusable href
    elif tag.name == "tg-emoji":
        entity["custom_emoji_id"] = tag.attrs["emoji-id"]
    elif tag.name == "pre" and tag.language:
        entity["language"] = tag.language
    elif tag.name == "blockquote" and "expandable" in tag.attrs:
        entity["type"] = "expandable_blockquote"
    return entity


def _parse_start_tag(source: str, start: int) -> tuple[_Open, int]:
    """Parse ``<name attr=...>`` at ``start``; return the tag and the index after '>'."""
    n = len(source)
    j = start + 1
    while j < n and not source[j].isspace() and source[j] not in ">/":
        j += 1
    name = source[start + 1 : j].lower()
    where = f"at byte offset {_byte_offset(source, start)}"
    if name not in _TAG_TYPES:
        raise HTMLParseError(f'Unsupported start tag "{name}" {where}')
    attrs: dict[str, str] = {}
    while True:
        while j < n and source[j].isspace():
            j += 1
        if j >= n:
            raise HTMLParseError(f"Unclosed start tag {where}")
        if source[j] == ">":
            break
        m = _ATTR_RE.match(source, j)
        if m is None:
            raise HTMLParseError(f'Unexpected character in the tag "{name}" {where}')
        value_span = next((m.span(g) for g in (2, 3, 4) if m.group(g) is not None), None)
        value = _unescape(source, *value_span) if value_span else ""
        attrs[m.group(1).lower()] = value
        j = m.end()
    if name == "span" and attrs.get("class") != "tg-spoiler":
        raise HTMLParseError(f'Tag "span" must have class "tg-spoiler" {where}')
    if name == "tg-emoji" and not attrs.get("emoji-id", "").isdigit():
        raise HTMLParseError("Invalid custom emoji identifier specified")
    return _Open(name, attrs, 0), j + 1


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram HTML into ``(plain_text, entities)`` or raise :class:`HTMLParseError`.

    Stricter than Telegram in one respect: a ``&`` that does not begin one of the supported
    entities (``&lt; &gt; &amp; &quot;`` and numeric ones) is an error here, while TDLib
    keeps it as a literal character. A bare ``>`` in text is accepted, as Telegram does.
    """
    out: list[str] = []
    pos = 0  # UTF-16 offset of the plain text produced so far
    stack: list[_Open] = []
    entities: list[dict[str, Any]] = []
    i, n = 0, len(source)
    while i < n:
        c = source[i]
        if c == "&":
            m = _ENTITY_RE.match(source, i)
            ch = _decode_entity(m) if m else None
            if m is None or ch is None:
                shown = m.group(0) if m else "&"
                raise HTMLParseError(
                    f'Unsupported HTML entity "{shown}" at byte offset {_byte_offset(source, i)}'
                    ' (escape a literal "&" as "&amp;")'
                )
            out.append(ch)
            pos += utf16_len(ch)
            i = m.end()
        elif c != "<":
            j = i + 1
            while j < n and source[j] not in "<&":
                j += 1
            chunk = source[i:j]
            out.append(chunk)
            pos += utf16_len(chunk)
            i = j
        elif source.startswith("</", i):
            end = source.find(">", i)
            where = f"at byte offset {_byte_offset(source, i)}"
            if end < 0:
                raise HTMLParseError(f"Unclosed end tag {where}")
            name = source[i + 2 : end].strip().lower()
            if not stack:
                raise HTMLParseError(f"Unexpected end tag {where}")
            tag = stack.pop()
            if tag.name != name:
                raise HTMLParseError(
                    f'Unmatched end tag {where}, expected "</{tag.name}>", found "</{name}>"'
                )
            lang = tag.attrs.get("class", "")
            if tag.name == "code" and stack and stack[-1].name == "pre":
                if lang.startswith("language-"):  # <pre><code class="language-x"> is one entity
                    stack[-1].language = lang.removeprefix("language-")
            elif pos > tag.offset:
                entity = _entity_for(tag, tag.offset, pos - tag.offset)
                if entity is not None:
                    entities.append(entity)
            i = end + 1
        else:
            tag, i = _parse_start_tag(source, i)
            tag.offset = pos
            stack.append(tag)
    if stack:
        raise HTMLParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def command_entity(text: str) -> JSON | None:
    """The ``bot_command`` entity Telegram attaches when ``text`` starts with ``/command``."""
    m = _COMMAND_RE.match(text)
    return {"type": "bot_command", "offset": 0, "length": utf16_len(m.group(0))} if m else None


def message_text(params: JSON) -> tuple[str, list[JSON]]:
    """Validate ``text``/``parse_mode``; return (plain text, entities). Markdown isn't parsed."""
    raw = params.get("text")
    if raw is None or raw == "":
        raise bad_request("message text is empty")
    raw, mode = str(raw), str(params.get("parse_mode") or "").lower()
    if mode == "html":
        try:
            text, entities = parse_html(raw)
        except HTMLParseError as exc:
            raise bad_request(f"can't parse entities: {exc}") from None
    elif mode in ("", "markdown", "markdownv2"):
        text, entities = raw, list(params.get("entities") or [])
    else:
        raise bad_request("unsupported parse_mode")
    if not text.strip():
        raise bad_request("text must be non-empty")
    if len(text) > MAX_TEXT:
        raise bad_request("message is too long")
    return text, entities


def caption_text(params: JSON) -> tuple[str, list[JSON]]:
    """Validate an optional ``caption``/``parse_mode``; return (plain caption, entities)."""
    raw = params.get("caption")
    if raw is None or raw == "":
        return "", []
    raw, mode = str(raw), str(params.get("parse_mode") or "").lower()
    if mode == "html":
        try:
            text, entities = parse_html(raw)
        except HTMLParseError as exc:
            raise bad_request(f"can't parse entities: {exc}") from None
    elif mode in ("", "markdown", "markdownv2"):
        text, entities = raw, list(params.get("caption_entities") or [])
    else:
        raise bad_request("unsupported parse_mode")
    if len(text) > MAX_CAPTION:
        raise bad_request("message caption is too long")
    return text, entities


def _check_button(button: Any) -> None:
    what = "can't parse inline keyboard button: "
    if not isinstance(button, dict):
        raise bad_request(what + "InlineKeyboardButton must be an Object")
    text = button.get("text")
    if text is None:
        raise bad_request(what + 'Can\'t find field "text"')
    if not isinstance(text, str):
        raise bad_request(what + 'Field "text" must be of type String')
    if not text.strip():
        raise bad_request(what + "Text must be non-empty")
    # An empty switch_inline_query is an action (it types just "@bot"); other fields count
    # when they have a value.
    actions = [
        k
        for k in _BUTTON_ACTIONS
        if button.get(k) not in (None, "", False) or (k in _SWITCH_INLINE and k in button)
    ]
    if not actions:
        raise bad_request(what + "Text buttons are unallowed in the inline keyboard")
    if len(actions) > 1:
        raise bad_request(what + "a button must have exactly one action, not " + ", ".join(actions))
    for name in _SWITCH_INLINE:
        query = button.get(name)
        # Whatever it types becomes an inline query, which holds at most 256 characters.
        if name in button and (not isinstance(query, str) or len(query) > 256):
            raise bad_request(what + f'Field "{name}" must be a String of at most 256 characters')
    data = button.get("callback_data")
    if data and (not isinstance(data, str) or len(data.encode("utf-8")) > 64):
        raise bad_request("BUTTON_DATA_INVALID")
    url = button.get("url")
    if url and (not isinstance(url, str) or not _URL_RE.fullmatch(url)):
        raise bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")
    if "callback_game" in actions or "pay" in actions:
        raise bad_request("BUTTON_TYPE_INVALID")  # only valid on game / invoice messages


def check_reply_markup(markup: Any) -> None:
    """Validate a decoded ``reply_markup`` (inline keyboards in depth)."""
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard", [])
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request('field "inline_keyboard" must be of type Array')
    for row in rows:
        for button in row:
            _check_button(button)


def check_inline_answer(results: Any, next_offset: str) -> None:
    """Validate ``answerInlineQuery`` results and ``next_offset``."""
    if not isinstance(results, list):
        raise bad_request('field "results" must be of type Array')
    if len(results) > 50:
        raise bad_request("RESULTS_TOO_MUCH")
    if len(next_offset.encode("utf-8")) > 64:
        raise bad_request("NEXT_OFFSET_INVALID")
    seen: set[str] = set()
    for result in results:
        rid = result.get("id") if isinstance(result, dict) else None
        if not isinstance(rid, str) or not 1 <= len(rid.encode("utf-8")) <= 64:
            raise bad_request("RESULT_ID_INVALID")
        if rid in seen:
            raise bad_request("RESULT_ID_DUPLICATE")
        seen.add(rid)
        if result.get("reply_markup") is not None:
            check_reply_markup(result["reply_markup"])
        content = result.get("input_message_content")
        if isinstance(content, dict) and "message_text" in content:
            # The text a chosen result sends is checked like a message's: HTML, 4096.
            message_text({"text": content["message_text"], "parse_mode": content.get("parse_mode")})


def check_commands(commands: Any) -> None:
    """Validate ``setMyCommands`` commands."""
    if not isinstance(commands, list):
        raise bad_request('field "commands" must be of type Array')
    if len(commands) > 100:
        raise bad_request("BOT_COMMANDS_TOO_MUCH")
    for item in commands:
        command = item.get("command") if isinstance(item, dict) else None
        description = item.get("description") if isinstance(item, dict) else None
        if not command:
            raise bad_request("command must be non-empty")
        if not isinstance(command, str) or not _BOT_COMMAND_RE.fullmatch(command):
            raise bad_request("BOT_COMMAND_INVALID")
        if not description:
            raise bad_request("command description must be non-empty")
        if not isinstance(description, str) or len(description) > 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")


def _coerce(name: str, value: Any) -> Any:
    """Type a form field as Telegram reads it (PTB sends non-strings JSON-encoded)."""
    if not isinstance(value, str):
        return value
    if name in _OBJECT_FIELDS:
        try:
            return json.loads(value)
        except ValueError:
            what = "reply keyboard markup" if name == "reply_markup" else name
            raise bad_request(f"can't parse {what} JSON object") from None
    if name in _INT_FIELDS and re.fullmatch(r"-?[0-9]+", value):
        return int(value)
    if name in _BOOL_FIELDS:
        return value.lower() in ("true", "1")
    return value


def decode_params(content_type: str, body: bytes, query: str = "") -> JSON:
    """Bot API parameters from the query string and a form, multipart or JSON body."""
    raw: JSON = dict(parse_qsl(query, keep_blank_values=True))
    kind = content_type.split(";")[0].strip().lower()
    if kind == "application/json" and body.strip():
        try:
            loaded = json.loads(body)
        except ValueError:
            raise bad_request("can't parse JSON encoded request") from None
        if not isinstance(loaded, dict):
            raise bad_request("JSON object expected")
        raw.update(loaded)
    elif kind == "application/x-www-form-urlencoded":
        raw.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    elif kind == "multipart/form-data":
        head = f"Content-Type: {content_type}\r\n\r\n".encode()
        for part in BytesParser(policy=policy.HTTP).parsebytes(head + body).iter_parts():
            name = part.get_param("name", header="content-disposition")
            data = part.get_payload(decode=True)
            if isinstance(name, str) and isinstance(data, bytes):
                filename = part.get_filename()
                # An uploaded file keeps its bytes (tests read documents the bot sent).
                upload = {"filename": filename, "size": len(data), "data": data}
                raw[name] = upload if filename else data.decode()
    return {key: _coerce(key, value) for key, value in raw.items()}
