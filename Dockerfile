# quotebot image: the wheel, installed with the locked dependencies.
#
#   docker build -t quotebot .
#   docker run --env-file .env -v quotebot-data:/data quotebot
#   (or `docker compose up -d` with compose.yaml)
#
# Layout of the final image:
#   /opt/venv   the virtual environment: the exact versions of requirements.lock, the
#               quotebot wheel (the package and its seed data, bot/data/) and `quotebot`
#   /data       the volume holding the SQLite database, owned by the bot user
#
# The builder builds the wheel with the locked build backend (requirements-build.lock),
# then installs requirements.lock (hashes required) and the wheel, without its
# dependencies, into /opt/venv. The final stage, on the same base image, takes only that
# venv: no source tree, no build files, no pip cache. The same path on both sides keeps its
# scripts' `#!/opt/venv/bin/python` lines valid.

# ---- builder: the wheel, then a venv with the locked dependencies and the wheel ------
FROM python:3.11.14-slim-trixie AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /src
COPY requirements-build.lock requirements.lock ./
# All dependencies ship wheels for linux/amd64 and arm64: nothing is compiled here.
RUN pip install --no-cache-dir --require-hashes -r requirements-build.lock \
    && python -m venv --without-pip /opt/venv \
    && pip --python /opt/venv/bin/python install --no-cache-dir --require-hashes \
        -r requirements.lock

# pyproject.toml names README.md and LICENSE, so the build needs them.
COPY pyproject.toml README.md LICENSE ./
COPY bot/ bot/
COPY data/ data/
RUN pip wheel --no-cache-dir --no-deps --no-build-isolation --wheel-dir /dist . \
    && pip --python /opt/venv/bin/python install --no-cache-dir --no-deps /dist/quotebot-*.whl \
    && pip --python /opt/venv/bin/python check

# ---- final: the venv only ------------------------------------------------------------
FROM python:3.11.14-slim-trixie

ENV PATH="/opt/venv/bin:$PATH" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    QUOTEBOT_DB=/data/quotebot.db

# A system user (uid/gid 10001) without a home or a login shell. /data is created here,
# owned by that user, before VOLUME: a new named volume is initialised from it, so it
# starts empty and writable by the bot, which seeds the database from the data inside the
# wheel at its first start. A bind-mounted host directory must be writable by uid 10001.
RUN groupadd --system --gid 10001 quotebot \
    && useradd --system --no-log-init --uid 10001 --gid quotebot \
        --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin quotebot \
    && mkdir /data \
    && chown 10001:10001 /data

COPY --from=builder /opt/venv /opt/venv
WORKDIR /data

# Numeric, so `runAsNonRoot` checks and hosts without this user can verify it.
USER 10001:10001
VOLUME /data
# Webhook mode only (WEBHOOK_PORT, default 8080); polling needs no open port.
EXPOSE 8080

# run_polling/run_webhook stop on SIGINT: they finish the updates in hand, then shut down.
# Give them time with `docker stop --time 30` (compose.yaml: stop_grace_period).
STOPSIGNAL SIGINT

# Cheap and offline: the database exists, opens read-only and holds quotes. It never
# creates or writes the file, so it cannot race the bot's own first-start seeding.
HEALTHCHECK --interval=60s --timeout=10s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, sqlite3, sys; from urllib.parse import quote; db = sqlite3.connect('file:' + quote(os.environ['QUOTEBOT_DB']) + '?mode=ro', uri=True); sys.exit(0 if db.execute('SELECT EXISTS (SELECT 1 FROM quotes)').fetchone()[0] else 1)"]

CMD ["quotebot", "run"]
