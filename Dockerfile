# quotebot image.
#
#   docker build -t quotebot .
#   docker run --env-file .env -v quotebot-data:/data quotebot
#
# Layout of the final image:
#   /opt/venv   the virtual environment: Python dependencies and the `quotebot` command
#   /app/bot    the package source, root-owned and read-only for the bot user
#   /app/data   the seed data (statements.txt, catalog.toml), read-only
#   /data       the volume holding the SQLite database, owned by the bot user
#
# The package finds its seed data next to itself: bot/store.py uses
# DATA_DIR = <directory holding bot/>/data. A regular `pip install .` would put bot/ in
# site-packages, where no data/ sits beside it. So the package is installed in editable
# mode from /app: the venv then imports `bot` from /app/bot, and /app/data is where
# DATA_DIR points. The builder and the final stage use the same paths (/app, /opt/venv)
# and the same base image, so the venv copied across keeps working: its scripts'
# `#!/opt/venv/bin/python` lines and the editable install's pointer to /app/bot stay valid.
#
# tests/test_docker.py replays the COPY/RUN/ENV/WORKDIR steps of both stages outside
# Docker, then runs the HEALTHCHECK, `quotebot stats` and the CMD (against a fake Bot API,
# stopped with STOPSIGNAL) on a fresh /data.

# ---- builder: a venv with the dependencies and the package -------------------------
FROM python:3.11.14-slim-trixie AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /app
# pyproject.toml names README.md as the package's long description, so the build needs it.
COPY pyproject.toml README.md ./
COPY bot/ bot/
# All dependencies ship wheels for linux/amd64 and arm64: nothing is compiled here.
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir --editable .

# ---- final: no compilers, no pip cache, no build files --------------------------------
FROM python:3.11.14-slim-trixie

ENV PATH="/opt/venv/bin:$PATH" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    QUOTEBOT_DB=/data/quotebot.db

# A system user (uid/gid 10001) without a home or a login shell. /data is created here,
# owned by that user, before VOLUME: a new named volume is initialised from it, so it
# starts empty and writable by the bot, which seeds the database from /app/data at its
# first start. A bind-mounted host directory must be writable by uid 10001.
RUN groupadd --system --gid 10001 quotebot \
    && useradd --system --no-log-init --uid 10001 --gid quotebot \
        --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin quotebot \
    && mkdir /data \
    && chown 10001:10001 /data

COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
COPY bot/ bot/
COPY data/ data/

# Numeric, so `runAsNonRoot` checks and hosts without this user can verify it.
USER 10001:10001
VOLUME /data
# Webhook mode only (WEBHOOK_PORT, default 8080); polling needs no open port.
EXPOSE 8080

# run_polling/run_webhook stop on SIGINT: they finish the updates in hand, then shut down.
# Give them time with `docker stop --time 30` (or stop_grace_period in compose).
STOPSIGNAL SIGINT

# Cheap and offline: the database exists, opens read-only and holds quotes. It never
# creates or writes the file, so it cannot race the bot's own first-start seeding.
HEALTHCHECK --interval=60s --timeout=10s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, sqlite3, sys; from urllib.parse import quote; db = sqlite3.connect('file:' + quote(os.environ['QUOTEBOT_DB']) + '?mode=ro', uri=True); sys.exit(0 if db.execute('SELECT EXISTS (SELECT 1 FROM quotes)').fetchone()[0] else 1)"]

CMD ["quotebot", "run"]
