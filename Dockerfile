# racecontrol: one process (the race-state engine is a single writer), SQLite by default.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY server ./server
COPY timing_adapters ./timing_adapters
COPY alembic ./alembic
COPY web ./web
RUN pip install --no-cache-dir -e .
ENV RACECONTROL_DATABASE_URL=sqlite+aiosqlite:////data/racecontrol.db \
    RACECONTROL_HOST=0.0.0.0 \
    RACECONTROL_PORT=8000
VOLUME /data
EXPOSE 8000
# migrations first, then one worker
CMD ["sh", "-c", "racecontrol db upgrade && exec racecontrol serve"]
