# racecontrol: one process (the race-state engine is a single writer), SQLite in /data by default.
# Build: docker build -t racecontrol .   Run: docker run -p 8000:8000 -p 50000:50000 -v rc:/data racecontrol
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY server ./server
COPY timing_adapters ./timing_adapters
# a wheel, not an editable install: migrations, templates and static files are package data
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin racecontrol \
    && mkdir -p /data && chown racecontrol:racecontrol /data
# everything that must outlive the container lives in the /data volume: the database, the outage
# spool and the session-signing key (kept next to the database)
ENV RACECONTROL_DATABASE_URL=sqlite+aiosqlite:////data/racecontrol.db \
    RACECONTROL_SPOOL_PATH=/data/racecontrol-spool.jsonl \
    RACECONTROL_HOST=0.0.0.0 \
    RACECONTROL_PORT=8000 \
    RACECONTROL_RMONITOR_HOST=0.0.0.0 \
    RACECONTROL_RMONITOR_PORT=50000
USER racecontrol
WORKDIR /data
VOLUME /data
# 8000: the pages and the API; 50000: our timing as an RMonitor feed for scoreboards
EXPOSE 8000 50000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]
# migrations first, then one worker
CMD ["sh", "-c", "racecontrol db upgrade && exec racecontrol serve"]
