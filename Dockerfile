# dlf-bot: a slim image that runs `dlf-bot run` as an unprivileged user.
# Build: docker build -t dlf-bot .    Run: docker run --env-file .env -p 3000:3000 dlf-bot
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORT=3000 \
    DATABASE_URL=sqlite:////data/dlf-bot.sqlite3

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY dlf_sandbox ./dlf_sandbox
COPY slack_fake ./slack_fake
RUN pip install . \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin dlfbot \
    && mkdir -p /data \
    && chown dlfbot /data

USER dlfbot
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('PORT', '3000')}/healthz\", timeout=4)"]
CMD ["dlf-bot", "run"]
