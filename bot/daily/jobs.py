"""The quote of the day's start and stop with the application, and its JobQueue check.

``start_daily(app)`` (post_init, store open) starts the :class:`bot.daily.service.DailyService`,
the JobQueue check every :data:`CHECK_INTERVAL` seconds and a catch-up pass;
``stop_daily(app)`` (before the store closes) stops them; both are idempotent.
"""

from __future__ import annotations

from typing import Any

from bot.context import Context, QuoteBotApp
from bot.daily.service import DailyService

JOB_NAME = "daily-check"
CHECK_INTERVAL = 20.0  # seconds between looks at the due index


async def _check(context: Context) -> None:
    service = context.bot_data._daily
    if service is not None and not service.busy:
        await service.run_due()


async def start_daily(app: QuoteBotApp, *, catch_up: bool = True, **options: Any) -> None:
    """post_init, after the store is open: the service, the JobQueue check and a catch-up
    pass in the background (post_init must not wait for a whole broadcast). ``options`` go
    to :class:`DailyService` (tests inject a clock)."""
    data = app.bot_data
    if data._daily is not None:
        return
    resend = data.settings.daily_ambiguous == "resend"
    service = DailyService(data.store, app.bot, **{"resend_ambiguous": resend, **options})
    data._daily = service
    jobs = app.job_queue
    if jobs is not None and not jobs.get_jobs_by_name(JOB_NAME):
        jobs.run_repeating(
            _check,
            interval=CHECK_INTERVAL,
            first=CHECK_INTERVAL,
            name=JOB_NAME,
            # A long broadcast outlives several ticks; those return at once (``busy``).
            job_kwargs={"max_instances": 4, "coalesce": True},
        )
    if catch_up:
        service.spawn(service.run_due(source="catch-up"))


async def stop_daily(app: QuoteBotApp) -> None:
    """post_shutdown, before the store closes: stop checks; let in-flight sends finish."""
    data = app.bot_data
    service = data._daily
    if service is None:
        return
    if app.job_queue is not None:
        for job in app.job_queue.get_jobs_by_name(JOB_NAME):
            job.schedule_removal()
    await service.close()
    data._daily = None
