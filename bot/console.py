"""``quotebot chat``: try the bot in a terminal, with no token and no network.

The real Application and handlers talk to the in-process fake Bot API (bot/fake_telegram).
Replies are shown readably (bold, quotes), buttons as numbered choices; type the number to
press one. ``@ query`` runs inline mode, ``/group`` and ``/private`` switch chats, ``/admin``
and ``/member`` switch between a group admin and a member, ``/quit`` leaves. The first screen
lists these controls (:data:`BANNER`). When stdin is not a terminal, commands are read from
it line by line (scripting).
"""

from __future__ import annotations

import asyncio
import html
import re
import sys
from dataclasses import dataclass, replace
from typing import Any, TextIO

import httpx
from telegram import Update
from telegram.request import HTTPXRequest

from bot.app import build_application, start_resources
from bot.config import Settings
from bot.context import QuoteBotApp
from bot.fake_telegram.api import FakeBotAPI

PRIVATE_CHAT = 4242
GROUP_CHAT = -1004242
MEMBER_USER = 4242  # you, in the private chat and as a group member
ADMIN_USER = 4243  # you, after /admin: an administrator of the group chat
BANNER = """\
quotebot offline console: the real bot against an in-process fake of Telegram
(no token, no network). You are in a private chat with the bot.

  /help  /who hall  /case ablyazov  any text   talk to the bot (plain text is a search)
  1, 2, 3 …                                    press the button with that number
  @ torture                                    inline mode, as typing "@QuoteBot torture"
  /group  /private                             switch to a group chat, and back
  /admin  /member                              act as a group admin (/daily 09:00), or not
  /quit                                        leave (or Ctrl-D)
"""


@dataclass(frozen=True)
class InlineSwitch:
    """A Share (``switch_inline_query``) button's action: run inline mode with ``query``."""

    query: str


class Terminal:
    """Renders Telegram HTML for a terminal: ANSI styles on a tty, plain marks otherwise."""

    def __init__(self, out: TextIO, color: bool) -> None:
        self.out, self.color = out, color

    def style(self, code: str, plain: str) -> str:
        return f"\x1b[{code}m" if self.color else plain

    def render(self, text: str) -> str:
        bold, unbold = self.style("1", "*"), self.style("22", "*")
        under, ununder = self.style("4", "_"), self.style("24", "_")
        italic, unitalic = self.style("3", ""), self.style("23", "")
        text = re.sub(r"<(b|strong)>", bold, text)
        text = re.sub(r"</(b|strong)>", unbold, text)
        text = text.replace("<u>", under).replace("</u>", ununder)
        text = re.sub(r"<(i|em)>", italic, text)
        text = re.sub(r"</(i|em)>", unitalic, text)
        text = re.sub(
            r"<blockquote[^>]*>(.*?)</blockquote>",
            lambda m: "\n".join("  │ " + line for line in m.group(1).split("\n")),
            text,
            flags=re.DOTALL,
        )
        # A link shows its address after the label: the console has nothing to click.
        text = re.sub(r'<a href="([^"]*)">(.*?)</a>', r"\2 [\1]", text, flags=re.DOTALL)
        text = re.sub(r"</?(code|pre|s|del|tg-spoiler|span|a)[^>]*>", "", text)
        return html.unescape(text)

    def print(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)


class Console:
    def __init__(self, settings: Settings, out: TextIO, color: bool = False) -> None:
        self.fake = FakeBotAPI(username="QuoteBot")
        self.app: QuoteBotApp = build_application(
            replace(settings, token=None),
            HTTPXRequest(httpx_kwargs={"transport": self.fake.transport()}),
        )
        self.term = Terminal(out, color)
        self.chat_id, self.chat_type = PRIVATE_CHAT, "private"
        self.user_id = MEMBER_USER
        self.choices: list[tuple[str, Any]] = []  # (label, action) for numbered presses
        self._seen = self._answers_seen = 0
        self.fake.set_chat_admins(GROUP_CHAT, [ADMIN_USER])

    async def __aenter__(self) -> Console:
        await self.app.initialize()
        await start_resources(self.app)  # post_init is not run by initialize()
        self._seen = len(self.fake.sent)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.app.post_shutdown is not None:
            await self.app.post_shutdown(self.app)
        await self.app.shutdown()

    async def handle(self, line: str) -> bool:
        """Process one line of input; False when the user wants to leave."""
        line = line.strip()
        if not line:
            return True
        if line in ("/quit", "/exit", "quit", "exit"):
            return False
        if line == "/group":
            self.chat_id, self.chat_type = GROUP_CHAT, "supergroup"
            self.term.print("(now in a group chat; commands work as /who or /who@QuoteBot)")
        elif line == "/private":
            self.chat_id, self.chat_type = PRIVATE_CHAT, "private"
            self.term.print("(now in a private chat)")
        elif line in ("/admin", "/member"):
            self.user_id = ADMIN_USER if line == "/admin" else MEMBER_USER
            role = "an administrator" if line == "/admin" else "a member (not an admin)"
            self.term.print(f"(in the group chat you are now {role})")
        elif line.isdigit() and self.choices:
            await self.press(int(line))
        elif line.startswith("@"):
            await self.inline(line.lstrip("@").strip())
        else:
            update = self.fake.user_message(
                line, chat_id=self.chat_id, chat_type=self.chat_type, user_id=self.sender()
            )
            await self.process(update)
        return True

    def sender(self) -> int:
        """Who is writing: in the private chat always you; in the group, admin or member."""
        return self.user_id if self.chat_type != "private" else MEMBER_USER

    async def process(self, update: dict[str, Any]) -> None:
        await self.app.process_update(Update.de_json(update, self.app.bot))
        self.show_new()

    def show_new(self) -> None:
        new = self.fake.sent[self._seen :]
        self._seen = len(self.fake.sent)
        for sent in new:
            if sent.document is not None:
                self.show_document(sent.document.file_name, sent.document.data)
            else:
                edited = " (edited)" if sent.method != "sendMessage" else ""
                self.term.print(f"bot{edited}:")
            self.term.print(
                self.term.render(sent.html if sent.parse_mode else html.escape(sent.text))
            )
            self.show_buttons(sent.chat_id, sent.message_id, sent.reply_markup)
            self.term.print()
        answers = self.fake.calls_to("answerCallbackQuery")
        for answer in answers[self._answers_seen :]:
            if answer.get("text"):
                self.term.print(f"(bot: {answer['text']})")
        self._answers_seen = len(answers)

    def show_document(self, name: str, data: bytes, preview_lines: int = 6) -> None:
        """A file the bot sent (an /export): its name, size and first lines."""
        self.term.print(f"bot sent a file: {name} ({len(data):,} bytes)")
        lines = data.decode("utf-8", errors="replace").splitlines()
        for line in lines[:preview_lines]:
            self.term.print(f"  | {line[:120]}")
        if len(lines) > preview_lines:
            self.term.print(f"  | … {len(lines) - preview_lines} more lines")

    def show_buttons(self, chat_id: int, message_id: int, markup: dict[str, Any] | None) -> None:
        rows = (markup or {}).get("inline_keyboard", [])
        buttons = [
            b for row in rows for b in row if "callback_data" in b or "switch_inline_query" in b
        ]
        if not buttons:
            return
        self.choices = [
            (b["text"], (chat_id, message_id, b["callback_data"]))
            if "callback_data" in b
            else (b["text"], InlineSwitch(b["switch_inline_query"]))
            for b in buttons
        ]
        self.term.print(
            "  " + "  ".join(f"[{i}] {label}" for i, (label, _) in enumerate(self.choices, 1))
        )

    async def press(self, number: int) -> None:
        if not 1 <= number <= len(self.choices):
            self.term.print(f"(no button {number})")
            return
        label, action = self.choices[number - 1]
        if isinstance(action, InlineSwitch):  # Telegram types "@QuoteBot query" in a chat
            self.term.print(f"(pressed {label}: you type @QuoteBot {action.query})")
            await self.inline(action.query)
            return
        if isinstance(action, str):  # an inline result: it becomes a message in the chat
            self.term.print("you sent via @QuoteBot:")
            self.term.print(self.term.render(action))
            return
        chat_id, message_id, data = action
        self.term.print(f"(pressed {label})")
        await self.process(
            self.fake.callback_query(
                chat_id=chat_id, message_id=message_id, data=data, user_id=self.sender()
            )
        )

    async def inline(self, query: str) -> None:
        update = self.fake.inline_query(query[:256], user_id=PRIVATE_CHAT)
        await self.app.process_update(Update.de_json(update, self.app.bot))
        answers = self.fake.calls_to("answerInlineQuery")
        results = answers[-1]["results"] if answers else []
        if not results:
            self.term.print("(no inline results)")
            return
        self.choices = [
            (r["title"], r["input_message_content"]["message_text"]) for r in results[:10]
        ]
        for i, (title, _) in enumerate(self.choices, 1):
            self.term.print(f"  [{i}] {title}")
        self.term.print("(type a number to send that quote)")


async def run_console(
    settings: Settings, stdin: TextIO | None = None, out: TextIO | None = None
) -> int:
    stdin, out = stdin or sys.stdin, out or sys.stdout
    interactive = stdin.isatty()
    async with Console(settings, out, color=interactive and out.isatty()) as console:
        console.term.print(BANNER)  # the first screen, scripted or not: the controls
        while True:
            if interactive:
                try:
                    line = await asyncio.to_thread(input, "you> ")
                except EOFError:
                    break
            else:
                line = stdin.readline()
                if not line:
                    break
                console.term.print(f"you> {line.rstrip()}")
            try:
                if not await console.handle(line):
                    break
            except httpx.HTTPError as exc:
                console.term.print(f"(offline API error: {exc})")
    return 0
