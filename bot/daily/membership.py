"""The bot's membership in a chat changes (blocked, removed, re-added, restricted, or the
group became a supergroup): the chat's quote of the day follows at once, without waiting
for a send to fail.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatMemberStatus

from bot.context import Context

log = logging.getLogger("bot.daily")  # one logger for the whole daily package


async def on_my_chat_member(update: Update, context: Context) -> None:
    """The bot was blocked, removed or re-added: pause or resume without a failed send."""
    change = update.my_chat_member
    if change is None:
        return
    chat, member = change.chat, change.new_chat_member
    service = context.bot_data.daily
    now = service.clock()
    status = member.status
    reachable = status in (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR, "member")
    if status == ChatMemberStatus.RESTRICTED:
        reachable = bool(getattr(member, "is_member", False)) and bool(
            getattr(member, "can_send_messages", False)
        )
    if reachable:
        if await service.subs.resume(chat.id, now):
            log.info("daily quotes resumed in chat %s", chat.id)
        return
    reason = "restricted" if status == ChatMemberStatus.RESTRICTED else "blocked"
    if chat.type != "private" and status != ChatMemberStatus.RESTRICTED:
        reason = "removed"
    if await service.subs.pause(chat.id, reason, now):
        log.info("daily quotes paused in chat %s (%s)", chat.id, status)


async def on_migrate(update: Update, context: Context) -> None:
    """The group's "upgraded to supergroup" service message: move the subscription now."""
    message = update.effective_message
    if message is None or not message.migrate_to_chat_id:
        return
    service = context.bot_data.daily
    await service.deliveries.migrate(
        message.chat.id, message.migrate_to_chat_id, None, service.clock()
    )
