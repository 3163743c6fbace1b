"""quotebot: a Telegram bot that serves human-rights statements, verbatim and attributed."""

import os

# PTB 22 gives time periods (RetryAfter.retry_after, ...) as int seconds with a deprecation
# warning on every read, PTB's own included (each 429 it parses); PTB_TIMEDELTA is its
# documented opt-in to the coming behaviour, timedelta. An explicit setting is respected;
# bot.ratelimit.retry_seconds reads either form.
os.environ.setdefault("PTB_TIMEDELTA", "true")
