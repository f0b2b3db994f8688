# intake-service: the API on real PostgreSQL and ClickHouse servers (see docker-compose.yml).
# With DATABASE_URL and CLICKHOUSE_URL set, `intake-service serve` applies the migrations of both
# stores, then serves with uvicorn; without them it falls back to the embedded stores in /data.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
COPY migrations ./migrations
# A plain (non-editable) install: the wheel carries the Alembic migrations and the ClickHouse DDL.
RUN pip install . \
    && rm -rf /src \
    && useradd --create-home --uid 10001 --user-group intake \
    && mkdir /data \
    && chown intake:intake /data

USER intake
WORKDIR /home/intake
VOLUME ["/data"]

# Settings come from the environment (flags would override it): see the README's configuration table.
# The container listens on every interface, so API keys are on: create one with
# `docker compose exec intake-service intake-service keys create NAME --scope intake:admin`.
ENV INTAKE_HOST=0.0.0.0 \
    INTAKE_AUTH=api-key \
    INTAKE_PORT=8080 \
    INTAKE_DATA_DIR=/data
EXPOSE 8080

HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health/ready' % os.environ.get('INTAKE_PORT', '8080'), timeout=4)"]

# `serve` migrates PostgreSQL (Alembic) and ClickHouse first, then runs uvicorn.
CMD ["intake-service", "serve"]
