"""The fake Bot API (bot/fake_telegram), driven through real python-telegram-bot objects."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Message,
    ReplyParameters,
    Update,
)
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import ApplicationBuilder, CommandHandler, ContextTypes
from telegram.request import HTTPXRequest

from bot.fake_telegram.api import FakeBotAPI
from bot.fake_telegram.html import HTMLParseError, parse_html

# PTB's own RetryAfter constructor reads the deprecated int form of retry_after.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

TOKEN = "123456:" + "A" * 35
USER = 5001
GROUP = -4001
SUPERGROUP = -1001234567890
PARSE = "can't parse entities: "
BUTTON = "can't parse inline keyboard button: "
AMP = ' (escape a literal "&" as "&amp;")'


def request_for(fake: FakeBotAPI) -> HTTPXRequest:
    return HTTPXRequest(httpx_kwargs={"transport": fake.transport()})


def make_bot(fake: FakeBotAPI, token: str = TOKEN) -> Bot:
    return Bot(token, request=request_for(fake), get_updates_request=request_for(fake))


@pytest.fixture
def fake() -> FakeBotAPI:
    return FakeBotAPI()


@pytest.fixture
async def bot(fake: FakeBotAPI) -> AsyncIterator[Bot]:
    async with make_bot(fake) as bot:
        yield bot


def keyboard(*buttons: InlineKeyboardButton) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([list(buttons)])


def retry_seconds(exc: RetryAfter) -> float:
    value = exc.retry_after  # an int, or a timedelta with PTB_TIMEDELTA=1
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


# --------------------------------------------------------------------------- basics
async def test_get_me_and_the_token_only_travels_in_the_url(fake: FakeBotAPI, bot: Bot) -> None:
    assert bot.username == "QuoteBot"
    assert bot.id == 1000
    await bot.send_message(USER, "hi")
    assert fake.token_seen == {TOKEN}
    assert [method for method, _ in fake.calls] == ["getMe", "sendMessage"]
    assert TOKEN not in json.dumps(fake.calls)


async def test_send_message_parses_html_and_records_what_was_sent(
    fake: FakeBotAPI, bot: Bot
) -> None:
    markup = keyboard(InlineKeyboardButton("More", callback_data="more:1"))
    message = await bot.send_message(
        USER, "<b>Art. 1</b> &amp; <i>dignity</i> 😀", parse_mode="HTML", reply_markup=markup
    )
    assert message.text == "Art. 1 & dignity 😀"
    assert [(e.type, e.offset, e.length) for e in message.entities] == [
        ("bold", 0, 6),
        ("italic", 9, 7),
    ]
    assert message.reply_markup == markup
    assert message.from_user is not None and message.from_user.is_bot
    sent = fake.sent[-1]
    assert (sent.chat_id, sent.message_id, sent.method) == (USER, message.message_id, "sendMessage")
    assert sent.html.startswith("<b>Art. 1</b>") and sent.parse_mode == "HTML"
    assert sent.reply_markup == markup.to_dict()
    assert fake.last_text(USER) == "Art. 1 & dignity 😀"
    params = fake.calls_to("sendMessage")[-1]  # form fields decoded to Telegram's types
    assert params["chat_id"] == USER and isinstance(params["reply_markup"], dict)


async def test_message_ids_count_per_chat_and_replies_link(fake: FakeBotAPI, bot: Bot) -> None:
    first = await bot.send_message(USER, "one")
    second = await bot.send_message(USER, "two", reply_parameters=ReplyParameters(first.message_id))
    other = await bot.send_message(GROUP, "group")
    assert (first.message_id, second.message_id, other.message_id) == (1, 2, 1)
    assert second.reply_to_message is not None
    assert second.reply_to_message.message_id == first.message_id
    assert fake.sent[1].reply_to_message_id == first.message_id
    with pytest.raises(BadRequest, match="Message to be replied not found"):
        await bot.send_message(USER, "x", reply_to_message_id=99)
    orphan = await bot.send_message(
        USER, "x", reply_to_message_id=99, allow_sending_without_reply=True
    )
    assert orphan.reply_to_message is None


# ----------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("text", "parse_mode", "error"),
    [
        ("", None, "message text is empty"),
        ("   ", None, "text must be non-empty"),
        ("<b></b>", "HTML", "text must be non-empty"),
        ("x" * 4097, None, "message is too long"),
        ("<b>" + "x" * 4097 + "</b>", "HTML", "message is too long"),
        ("<b>open", "HTML", f'{PARSE}Can\'t find end tag corresponding to start tag "b"'),
        (
            "<b><i>x</b></i>",
            "HTML",
            f'{PARSE}Unmatched end tag at byte offset 7, expected "</i>", found "</b>"',
        ),
        ("x</b>", "HTML", f"{PARSE}Unexpected end tag at byte offset 1"),
        ("<br>", "HTML", f'{PARSE}Unsupported start tag "br" at byte offset 0'),
        ("é<div>x</div>", "HTML", f'{PARSE}Unsupported start tag "div" at byte offset 2'),
        ("1 < 2", "HTML", f'{PARSE}Unsupported start tag "" at byte offset 2'),
        ("Q&A", "HTML", f'{PARSE}Unsupported HTML entity "&" at byte offset 1{AMP}'),
        ("&nbsp;", "HTML", f'{PARSE}Unsupported HTML entity "&nbsp;" at byte offset 0{AMP}'),
        (
            '<span class="x">s</span>',
            "HTML",
            f'{PARSE}Tag "span" must have class "tg-spoiler" at byte offset 0',
        ),
        ("x", "Textile", "unsupported parse_mode"),
    ],
)
async def test_text_is_validated_like_telegram(
    fake: FakeBotAPI, bot: Bot, text: str, parse_mode: str | None, error: str
) -> None:
    with pytest.raises(BadRequest, match="(?i)" + re.escape(error)):
        await bot.send_message(USER, text, parse_mode=parse_mode)
    assert fake.errors[-1] == ("sendMessage", 400, f"Bad Request: {error}")


async def test_length_counts_plain_text_after_entity_parsing(bot: Bot) -> None:
    body = "&lt;" * 4000 + "x" * 96
    message = await bot.send_message(USER, f"<b>{body}</b>", parse_mode="HTML")
    assert message.text is not None and len(message.text) == 4096


@pytest.mark.parametrize(
    ("button", "error"),
    [
        (InlineKeyboardButton("b", callback_data="x" * 65), "BUTTON_DATA_INVALID"),
        (InlineKeyboardButton("b", callback_data="é" * 33), "BUTTON_DATA_INVALID"),
        (InlineKeyboardButton("", callback_data="x"), f"{BUTTON}Text must be non-empty"),
        (
            InlineKeyboardButton("b", callback_data=""),
            f"{BUTTON}Text buttons are unallowed in the inline keyboard",
        ),
        (
            InlineKeyboardButton("b", url="not-a-url"),
            "inline keyboard button URL 'not-a-url' is invalid: Wrong HTTP URL",
        ),
    ],
)
async def test_inline_keyboards_are_validated(
    fake: FakeBotAPI, bot: Bot, button: InlineKeyboardButton, error: str
) -> None:
    with pytest.raises(BadRequest):
        await bot.send_message(USER, "pick", reply_markup=keyboard(button))
    assert fake.errors[-1] == ("sendMessage", 400, f"Bad Request: {error}")


async def test_callback_data_of_exactly_64_bytes_is_fine(bot: Bot) -> None:
    data = "é" * 32  # 64 bytes in UTF-8
    message = await bot.send_message(
        USER, "ok", reply_markup=keyboard(InlineKeyboardButton("b", callback_data=data))
    )
    assert message.reply_markup is not None


async def test_edits_need_a_known_bot_message_and_a_change(fake: FakeBotAPI, bot: Bot) -> None:
    markup = keyboard(InlineKeyboardButton("Next", callback_data="n"))
    message = await bot.send_message(USER, "<b>page 1</b>", parse_mode="HTML", reply_markup=markup)
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", chat_id=USER, message_id=42)
    with pytest.raises(BadRequest, match="Message is not modified: specified new message content"):
        await bot.edit_message_text(
            "<strong>page 1</strong>", chat_id=USER, message_id=message.message_id,
            parse_mode="HTML", reply_markup=markup,
        )  # fmt: skip
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_reply_markup(USER, message.message_id, reply_markup=markup)
    no_keys = InlineKeyboardMarkup([])
    await bot.edit_message_reply_markup(USER, message.message_id, reply_markup=no_keys)
    assert (fake.sent[-1].html, fake.sent[-1].parse_mode) == ("<b>page 1</b>", "HTML")
    assert fake.sent[-1].method == "editMessageReplyMarkup"
    with pytest.raises(BadRequest, match="Message is not modified"):  # [] removed the keyboard
        await bot.edit_message_reply_markup(USER, message.message_id, reply_markup=None)
    edited = await bot.edit_message_text("page 2", chat_id=USER, message_id=message.message_id)
    assert isinstance(edited, type(message)) and edited.text == "page 2"
    assert edited.reply_markup is None and edited.edit_date is not None  # keyboard dropped
    methods = ["sendMessage", "editMessageReplyMarkup", "editMessageText"]
    assert [s.method for s in fake.messages_to(USER)] == methods
    update = fake.user_message("hello", chat_id=USER)
    with pytest.raises(BadRequest, match="Message can't be edited"):
        await bot.edit_message_text("x", chat_id=USER, message_id=update["message"]["message_id"])


async def test_delete_message(bot: Bot) -> None:
    message = await bot.send_message(USER, "bye")
    assert await bot.delete_message(USER, message.message_id)
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(USER, message.message_id)


async def test_callback_query_answers(fake: FakeBotAPI, bot: Bot) -> None:
    message = await bot.send_message(
        USER, "pick", reply_markup=keyboard(InlineKeyboardButton("b", callback_data="d"))
    )
    update = Update.de_json(
        fake.callback_query(chat_id=USER, message_id=message.message_id, data="d"), bot
    )
    query = update.callback_query
    assert query is not None and query.data == "d"
    assert isinstance(query.message, Message) and query.message.text == "pick"  # a real one
    with pytest.raises(BadRequest, match="Message_too_long"):
        await query.answer("x" * 201)
    assert await query.answer("done")
    with pytest.raises(BadRequest, match="Query is too old"):
        await query.answer("again")
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query("made-up-id")


async def test_inline_query_answers(fake: FakeBotAPI, bot: Bot) -> None:
    def results(n: int, same_id: bool = False) -> list[InlineQueryResultArticle]:
        content = InputTextMessageContent("quote")
        ids = ["r"] * n if same_id else [str(i) for i in range(n)]
        return [InlineQueryResultArticle(i, "title", content) for i in ids]

    query_id = fake.inline_query("dignity", user_id=USER)["inline_query"]["id"]
    with pytest.raises(BadRequest, match="Results_too_much"):
        await bot.answer_inline_query(query_id, results(51))
    with pytest.raises(BadRequest, match="Next_offset_invalid"):
        await bot.answer_inline_query(query_id, results(1), next_offset="9" * 65)
    with pytest.raises(BadRequest, match="Result_id_duplicate"):
        await bot.answer_inline_query(query_id, results(2, same_id=True))
    with pytest.raises(BadRequest, match="Result_id_invalid"):
        await bot.answer_inline_query(
            query_id, [InlineQueryResultArticle("x" * 65, "t", InputTextMessageContent("q"))]
        )
    assert await bot.answer_inline_query(query_id, results(50), next_offset="50")
    assert len(fake.calls_to("answerInlineQuery")[-1]["results"]) == 50


async def test_bot_commands_and_chat_actions(fake: FakeBotAPI, bot: Bot) -> None:
    commands = [BotCommand("who", "Who said it"), BotCommand("case", "A case")]
    assert await bot.set_my_commands(commands)
    assert await bot.get_my_commands() == tuple(commands)
    assert await bot.get_my_commands(language_code="de") == ()
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Bad Command", "x")])
    assert await bot.delete_my_commands()
    assert await bot.get_my_commands() == ()
    assert await bot.send_chat_action(USER, "typing")
    with pytest.raises(BadRequest, match="Wrong parameter action"):
        await bot.send_chat_action(USER, "dancing")


async def test_chat_members_and_admins(fake: FakeBotAPI, bot: Bot) -> None:
    fake.add_chat(SUPERGROUP, chat_type="supergroup", title="Hall")
    fake.set_chat_admins(SUPERGROUP, {7, 1000}, creator=8)
    assert (await bot.get_chat_member(SUPERGROUP, 7)).status == "administrator"
    assert (await bot.get_chat_member(SUPERGROUP, 8)).status == "creator"
    assert (await bot.get_chat_member(SUPERGROUP, 9)).status == "member"
    admins = await bot.get_chat_administrators(SUPERGROUP)
    assert sorted(member.user.id for member in admins) == [7, 8, 1000]
    chat = await bot.get_chat(SUPERGROUP)
    assert (chat.type, chat.title) == ("supergroup", "Hall")
    with pytest.raises(BadRequest, match="no administrators in the private chat"):
        await bot.get_chat_administrators(USER)


# ---------------------------------------------------------------- chat failure modes
async def test_blocked_kicked_migrated_and_forgotten_chats(fake: FakeBotAPI, bot: Bot) -> None:
    fake.block(USER)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(USER, "hi")
    fake.unblock(USER)
    await bot.send_message(USER, "hi again")
    fake.add_chat(GROUP, title="Old group")
    fake.block(GROUP)
    with pytest.raises(Forbidden, match="bot was kicked from the group chat"):
        await bot.send_message(GROUP, "hi")
    fake.unblock(GROUP)
    fake.migrate(GROUP, SUPERGROUP)
    with pytest.raises(ChatMigrated) as migrated:
        await bot.send_message(GROUP, "hi")
    assert migrated.value.new_chat_id == SUPERGROUP
    assert (await bot.send_message(SUPERGROUP, "hi")).chat.type == "supergroup"
    fake.forget(USER)
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(USER, "hi")
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message("@nobody", "hi")


async def test_my_chat_member_updates_block_and_unblock(fake: FakeBotAPI, bot: Bot) -> None:
    update = Update.de_json(
        fake.my_chat_member(chat_id=USER, old_status="member", new_status="kicked"), bot
    )
    assert update.my_chat_member is not None
    assert update.my_chat_member.new_chat_member.status == "kicked"
    assert update.my_chat_member.new_chat_member.user.id == bot.id
    with pytest.raises(Forbidden):
        await bot.send_message(USER, "still there?")
    fake.my_chat_member(
        chat_id=GROUP, chat_type="group", old_status="left", new_status="administrator"
    )
    assert (await bot.get_chat_member(GROUP, bot.id)).status == "administrator"


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("server_error", NetworkError),
        ("bad_request", BadRequest),
        ("forbidden", Forbidden),
        ("timeout", TimedOut),
        ("connect_timeout", TimedOut),
        ("network_error", NetworkError),
    ],
)
async def test_injected_failures_raise_ptbs_exceptions(
    fake: FakeBotAPI, bot: Bot, kind: str, error: type[Exception]
) -> None:
    fake.inject("sendMessage", kind, times=2)
    for _ in range(2):
        with pytest.raises(error) as caught:
            await bot.send_message(USER, "hi")
        if error is NetworkError and kind == "server_error":
            assert not isinstance(caught.value, TimedOut)
            assert "Bad Gateway" in str(caught.value)
    await bot.send_message(USER, "third time lucky")
    assert [s.text for s in fake.sent] == ["third time lucky"]


async def test_injected_retry_after_and_send_then_timeout(fake: FakeBotAPI, bot: Bot) -> None:
    fake.inject("SENDMESSAGE", "retry_after", chat_id=GROUP, retry_after=7)
    await bot.send_message(USER, "other chats are unaffected")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(GROUP, "hi")
    assert retry_seconds(caught.value) == 7
    assert [(m, c) for _, m, c in fake.too_many_requests] == [("sendMessage", GROUP)]
    fake.inject("sendMessage", "timeout_after_send")
    with pytest.raises(TimedOut):
        await bot.send_message(USER, "did it arrive?")
    assert fake.last_text(USER) == "did it arrive?"  # it did: retrying would duplicate it
    with pytest.raises(ValueError, match="unknown fault kind"):
        fake.inject("sendMessage", "gremlins")


async def test_unknown_method_and_bad_tokens(fake: FakeBotAPI, bot: Bot) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendTelepathy", api_kwargs={"chat_id": USER})
    strict = FakeBotAPI(valid_token=TOKEN)
    with pytest.raises(InvalidToken):
        await make_bot(strict, token="123456:" + "B" * 35).get_me()
    assert (await make_bot(strict).get_me()).username == "QuoteBot"
    async with httpx.AsyncClient(transport=fake.transport()) as client:
        response = await client.post("https://api.telegram.org/botnot-a-token/getMe")
    assert response.status_code == 404
    assert response.json() == {"ok": False, "error_code": 404, "description": "Not Found"}


async def test_json_and_multipart_bodies_and_case_insensitive_methods(fake: FakeBotAPI) -> None:
    base = f"https://example.invalid/bot{TOKEN}"
    async with httpx.AsyncClient(transport=fake.transport()) as client:
        as_json = await client.post(f"{base}/SENDMESSAGE", json={"chat_id": "5001", "text": "j"})
        as_multipart = await client.post(
            f"{base}/sendmessage", data={"chat_id": "5001", "text": "m"},
            files={"document": ("a.txt", b"abc", "text/plain")},
        )  # fmt: skip
        rejected = await client.post(f"{base}/sendMessage", json={"chat_id": 5001, "text": ""})
    assert as_json.json()["result"]["text"] == "j"
    assert as_multipart.json()["result"]["text"] == "m"
    uploaded = {"filename": "a.txt", "size": 3, "data": b"abc"}
    assert fake.calls_to("sendMessage")[1]["document"] == uploaded
    assert rejected.status_code == 400
    assert rejected.json() == {
        "ok": False, "error_code": 400, "description": "Bad Request: message text is empty"
    }  # fmt: skip


# ---------------------------------------------------------------------------- updates
async def test_get_updates_returns_and_confirms_with_offset(fake: FakeBotAPI, bot: Bot) -> None:
    first = fake.user_message("/start", chat_id=USER)
    second = fake.user_message("hello", chat_id=USER)
    assert second["update_id"] == first["update_id"] + 1 == fake.next_update_id - 1
    updates = await bot.get_updates()
    assert [u.update_id for u in updates] == [first["update_id"], second["update_id"]]
    assert updates[0].message is not None and updates[0].message.text == "/start"
    assert len(await bot.get_updates()) == 2  # nothing confirmed yet
    assert [u.update_id for u in await bot.get_updates(offset=second["update_id"])] == [
        second["update_id"]
    ]
    assert await bot.get_updates(offset=second["update_id"] + 1) == ()
    assert fake.updates == []


async def test_long_poll_returns_as_soon_as_an_update_arrives(fake: FakeBotAPI, bot: Bot) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.05)
    fake.user_message("ping", chat_id=USER)
    updates = await asyncio.wait_for(poll, 2)
    assert [u.message.text for u in updates if u.message] == ["ping"]
    assert loop.time() - started < 1
    assert await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0) == ()


async def test_get_updates_allowed_updates_and_conflicts(fake: FakeBotAPI, bot: Bot) -> None:
    fake.user_message("hi", chat_id=USER)
    fake.inline_query("q", user_id=USER)
    updates = await bot.get_updates(allowed_updates=["inline_query"])
    assert [u.inline_query is not None for u in updates] == [True]
    assert await bot.get_updates(offset=updates[0].update_id + 1) == ()
    waiting = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    await bot.get_updates(timeout=0)
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await waiting
    with pytest.raises(BadRequest, match=r"(?i)https url must be provided"):
        await bot.set_webhook("http://example.com/hook")
    assert await bot.set_webhook("https://example.com/hook")
    assert (await bot.get_webhook_info()).url == "https://example.com/hook"
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates()
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert (await bot.get_webhook_info()).pending_update_count == 0


async def test_builders_make_valid_updates(fake: FakeBotAPI, bot: Bot) -> None:
    command = Update.de_json(fake.user_message("/who@QuoteBot hall", chat_id=USER), bot)
    assert command.message is not None and command.message.from_user is not None
    assert command.message.from_user.id == USER and command.message.chat.type == "private"
    entity = command.message.entities[0]
    assert (entity.type, entity.offset, entity.length) == ("bot_command", 0, len("/who@QuoteBot"))
    assert fake.user_message("who hall", chat_id=USER)["message"].get("entities") is None
    reply = Update.de_json(fake.user_message("me too", chat_id=USER, reply_to=1), bot)
    assert reply.message is not None and reply.message.reply_to_message is not None
    inline = Update.de_json(fake.inline_query("art 1", user_id=USER, offset="10"), bot)
    assert inline.inline_query is not None and inline.inline_query.offset == "10"
    with pytest.raises(ValueError, match="no message 99"):
        fake.callback_query(chat_id=USER, message_id=99, data="x")


async def test_group_privacy_mode_filters_what_is_queued(fake: FakeBotAPI) -> None:
    fake.user_message("just chatting", chat_id=GROUP)
    fake.user_message("/who@OtherBot x", chat_id=GROUP)
    queued = [fake.user_message(text, chat_id=GROUP)["update_id"] for text in
              ("/who hall", "/who@QuoteBot hall", "hey @QuoteBot")]  # fmt: skip
    assert [u["update_id"] for u in fake.updates] == queued
    assert len(fake.privacy_dropped) == 2


async def test_command_handler_sees_only_its_own_commands(fake: FakeBotAPI) -> None:
    app = (
        ApplicationBuilder()
        .token(TOKEN)
        .request(request_for(fake))
        .get_updates_request(request_for(fake))
        .build()
    )
    seen: list[list[str]] = []

    async def who(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append(list(context.args or []))
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"who: {' '.join(context.args or [])}")

    app.add_handler(CommandHandler("who", who))
    async with app:
        for text in ("/who hall", "/who@QuoteBot hall", "/who@OtherBot hall", "who hall"):
            for chat_id in (USER, SUPERGROUP):
                update = fake.user_message(text, chat_id=chat_id, user_id=USER)
                await app.process_update(Update.de_json(update, app.bot))
    assert seen == [["hall"]] * 4
    assert fake.last_text(SUPERGROUP) == "who: hall"
    assert [s.reply_to_message_id for s in fake.messages_to(USER)] == [None, None]


async def test_application_long_polling_end_to_end(fake: FakeBotAPI) -> None:
    builder = ApplicationBuilder().token(TOKEN).request(request_for(fake))
    app = builder.get_updates_request(request_for(fake)).build()

    async def who(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"who: {' '.join(context.args or [])}")

    app.add_handler(CommandHandler("who", who))
    async with app:
        assert app.updater is not None
        await app.updater.start_polling(allowed_updates=Update.ALL_TYPES)
        await app.start()
        fake.user_message("/who hall", chat_id=USER)
        fake.user_message("/who@QuoteBot nurses", chat_id=SUPERGROUP)
        sent = await fake.wait_for_sent(2, within=3)
        await app.updater.stop()
        await app.stop()
    assert sorted((s.chat_id, s.text) for s in sent) == [
        (SUPERGROUP, "who: nurses"),
        (USER, "who: hall"),
    ]
    assert fake.updates == []  # the updater confirmed everything on the way out
    assert fake.chats[SUPERGROUP]["type"] == "supergroup"


async def test_wait_for_sent(fake: FakeBotAPI, bot: Bot) -> None:
    task = asyncio.create_task(fake.wait_for_sent(1, chat_id=USER, within=2))
    await asyncio.sleep(0.01)
    await bot.send_message(GROUP, "elsewhere")
    assert not task.done()
    await bot.send_message(USER, "done")
    assert [s.text for s in await task] == ["done"]
    with pytest.raises(TimeoutError):
        await fake.wait_for_sent(2, chat_id=USER, within=0.05)


# ------------------------------------------------------------------------ rate limits
class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_rate_limits_answer_429_when_exceeded() -> None:
    clock = FakeClock()
    fake = FakeBotAPI(clock=clock, enforce_rate_limits=True)
    async with make_bot(fake) as bot:
        for _ in range(3):  # a short burst in one private chat is tolerated ...
            await bot.send_message(USER, "burst")
        with pytest.raises(RetryAfter) as caught:  # ... then about one per second
            await bot.send_message(USER, "one too many")
        assert retry_seconds(caught.value) == 3
        clock.now += 3
        await bot.send_message(USER, "after waiting")

        for i in range(20):  # 20 per minute in a group
            clock.now += 0.5
            await bot.send_message(GROUP, f"g{i}")
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(GROUP, "g21")
        assert 1 <= retry_seconds(caught.value) <= 60

        clock.now += 100
        for chat in range(1, 31):  # 30 per second overall
            await bot.send_message(chat, "broadcast")
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(31, "broadcast")
        assert retry_seconds(caught.value) == 1
        assert await bot.send_chat_action(31, "typing")  # not a sending method
    assert [(method, chat) for _, method, chat in fake.too_many_requests] == [
        ("sendMessage", USER),
        ("sendMessage", GROUP),
        ("sendMessage", 31),
    ]
    assert "one too many" not in [s.text for s in fake.sent]


# ------------------------------------------------------------------------ HTML parser
def test_html_parser_entities_and_offsets() -> None:
    text, entities = parse_html(
        '😀 <a href="https://e.org/?a=1&amp;b=2">link</a> <tg-spoiler>s</tg-spoiler> '
        '<pre><code class="language-python">x = 1</code></pre>'
        "<blockquote expandable>q</blockquote> &#65;&#x42;&quot;"
    )
    assert text == '😀 link s x = 1q AB"'
    assert entities == [
        {"type": "text_link", "offset": 3, "length": 4, "url": "https://e.org/?a=1&b=2"},
        {"type": "spoiler", "offset": 8, "length": 1},
        {"type": "pre", "offset": 10, "length": 5, "language": "python"},
        {"type": "expandable_blockquote", "offset": 15, "length": 1},
    ]


def test_html_parser_rejects_what_telegram_rejects() -> None:
    for bad in (
        "<b>x",
        "<a href='x'",
        "</b>",
        "<b>x</i>",
        "&bogus;",
        "&#0;",
        "<tg-emoji>x</tg-emoji>",
    ):
        with pytest.raises(HTMLParseError):
            parse_html(bad)
    assert parse_html("a > b")[0] == "a > b"  # Telegram tolerates a bare '>'


# ----------------------------------------------------------------------- documents
async def test_send_document_keeps_the_file_as_ptb_uploads_it(fake: FakeBotAPI, bot: Bot) -> None:
    sent = await bot.send_document(
        GROUP, b"id,text\r\n1,hi\r\n", filename="x.csv", caption="<b>1 quote</b>", parse_mode="HTML"
    )
    assert sent.document is not None and sent.document.file_name == "x.csv"
    assert sent.document.file_size == 15 and sent.caption == "1 quote"
    assert sent.document.mime_type == "text/csv" and sent.text is None
    (recorded,) = fake.messages_to(GROUP)
    assert recorded.method == "sendDocument" and recorded.text == "1 quote"
    assert recorded.document is not None and recorded.document.data == b"id,text\r\n1,hi\r\n"
    reply = await bot.send_document(GROUP, b"x", filename="y.md", reply_to_message_id=1)
    assert reply.reply_to_message is not None and reply.reply_to_message.message_id == 1


async def test_send_document_enforces_telegrams_limits(fake: FakeBotAPI, bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)message caption is too long"):
        await bot.send_document(USER, b"x", filename="a.txt", caption="c" * 1025)
    with pytest.raises(BadRequest, match=r"(?i)file must be non-empty"):
        await bot.send_document(USER, b"", filename="a.txt")
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_document(USER, "some-file-id")
    with pytest.raises(BadRequest, match=r"(?i)can.t parse entities"):
        await bot.send_document(USER, b"x", filename="a.txt", caption="<b>", parse_mode="HTML")
    assert fake.messages_to(USER) == []
    await bot.send_document(USER, b"x", filename="a.txt", caption="c" * 1024)
