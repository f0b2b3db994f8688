"""The one settings class. Flags override the environment, the environment overrides defaults."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MIN_JWT_SECRET_BYTES = 32


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore")

    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "INTAKE_DATABASE_URL")
    )
    clickhouse_url: str | None = Field(
        default=None, validation_alias=AliasChoices("CLICKHOUSE_URL", "INTAKE_CLICKHOUSE_URL")
    )
    # Replicated tables on a ClickHouse cluster: the DDL gains ON CLUSTER and Replicated engines.
    clickhouse_cluster: str | None = None
    data_dir: Path = Path(".intake-data")
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    # uvicorn's levels; checked here so a misspelt level fails before the stores start.
    log_level: Literal["critical", "error", "warning", "info", "debug", "trace"] = "info"
    # "none" is only allowed on a loopback address unless serve gets --insecure-no-auth.
    auth: Literal["none", "api-key"] = "none"
    max_body_bytes: int = Field(default=32 * 1024 * 1024, ge=1024)
    # A request body that does not finish arriving within this many seconds is refused with 408.
    body_timeout_seconds: float = Field(default=30.0, gt=0)
    # The ML-workbench API (/api/v1): artifact bytes in a directory under data_dir, or in an
    # S3-compatible bucket for s3://bucket/prefix (credentials and endpoint from the usual AWS_* variables).
    artifact_store_url: str | None = Field(
        default=None, validation_alias=AliasChoices("ARTIFACT_STORE_URL", "INTAKE_ARTIFACT_STORE_URL")
    )
    # /metrics answers only to `Authorization: Bearer <metrics_key>` when set.
    metrics_key: str | None = Field(default=None, min_length=1)
    # Slow or stalled clients: the request line and headers must arrive within this many seconds, and
    # at most this many connections are open at once (the oldest still sending headers makes way).
    header_timeout_seconds: float = Field(default=10.0, gt=0)
    max_connections: int = Field(default=1000, ge=1)
    # JWT Bearer tokens: HS256 with the shared secret, RS256 with the PEM public key (text or a file path).
    jwt_secret: str | None = None
    jwt_public_key: str | None = None
    jwt_audience: str | None = None

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower_case(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _asyncpg_driver(cls, url: str | None) -> str | None:
        """Accept the plain postgres:// forms people paste and talk to them through asyncpg."""
        if not url:
            return None
        for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+asyncpg://" + url[len(prefix) :]
        raise ValueError("DATABASE_URL must be a postgresql:// URL")

    @field_validator("clickhouse_url")
    @classmethod
    def _clickhouse_http(cls, url: str | None) -> str | None:
        if not url:
            return None
        if not url.startswith(("http://", "https://", "clickhouse://")):
            raise ValueError("CLICKHOUSE_URL must be an http(s):// or clickhouse:// URL")
        return url

    @field_validator("artifact_store_url")
    @classmethod
    def _artifact_store(cls, url: str | None) -> str | None:
        if not url:
            return None
        if url.startswith("s3://") and len(url) > len("s3://") and not url[len("s3://")].startswith("/"):
            return url
        if url.startswith("file://") and len(url) > len("file://"):
            return url
        raise ValueError("ARTIFACT_STORE_URL must be s3://bucket[/prefix] or file:///path")

    @field_validator("jwt_secret")
    @classmethod
    def _long_secret(cls, secret: str | None) -> str | None:
        # RFC 7518 §3.2: an HS256 key has at least 256 bits; a short one can be brute-forced offline.
        if secret and len(secret.encode()) < MIN_JWT_SECRET_BYTES:
            raise ValueError(f"INTAKE_JWT_SECRET must be at least {MIN_JWT_SECRET_BYTES} bytes")
        return secret or None

    @field_validator("jwt_public_key")
    @classmethod
    def _pem_text_or_file(cls, value: str | None) -> str | None:
        if not value:
            return None
        if "-----BEGIN" in value:
            return value
        path = Path(value).expanduser()
        if not path.is_file():
            raise ValueError("INTAKE_JWT_PUBLIC_KEY must be a PEM public key or the path of a PEM file")
        return path.read_text()

    @property
    def embedded_postgres(self) -> bool:
        return self.database_url is None

    @property
    def embedded_clickhouse(self) -> bool:
        return self.clickhouse_url is None


@lru_cache
def get_settings() -> Settings:
    return Settings()
