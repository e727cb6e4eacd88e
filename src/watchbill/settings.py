"""Configuration from the environment; every variable is documented in docs/configuration.md."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from watchbill.core.oncall_load import DailyWindow, Limits, parse_window


class Settings(BaseSettings):
    """Read once per process from WATCHBILL_* environment variables."""

    model_config = SettingsConfigDict(env_prefix="WATCHBILL_", extra="ignore")

    data_dir: Path = Path(".watchbill")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; defaults to SQLite in the data directory"
    )
    base_url: str = "http://127.0.0.1:8080"
    session_hours: float = Field(default=12.0, gt=0)
    job_lease_seconds: float = Field(default=60.0, gt=0)
    job_batch_size: int = Field(default=250, ge=1, le=10_000)
    outbound_threads: int = Field(
        default=8, ge=1, le=256, description="threads per worker sending pages at once"
    )
    worker_poll_seconds: float = Field(default=0.5, gt=0)
    embedded_worker: bool = True
    log_level: str = "info"
    access_log: bool = False
    db_pool_size: int = Field(default=10, ge=1)
    intake_rate_per_key: float = Field(
        default=20_000.0, ge=0, description="events/s per integration key; 0 turns limiting off"
    )
    intake_burst_per_key: float = Field(default=100_000.0, gt=0)
    intake_queue: int = Field(
        default=20_000, ge=1, description="requests waiting for the intake writer's commit"
    )

    hsts_seconds: int = Field(
        default=31_536_000, ge=0, description="Strict-Transport-Security max-age; 0: none"
    )
    signin_failures_per_account: int = Field(
        default=10, ge=1, description="failed page sign-ins per account in the window, then 429"
    )
    signin_failures_per_address: int = Field(
        default=50, ge=1, description="failed page sign-ins per source address in the window"
    )
    signin_window_minutes: float = Field(default=15.0, gt=0, le=24 * 60)

    secret_key: str | None = Field(
        default=None,
        min_length=32,
        description="signs action links; unset: generated once and kept in the data directory",
    )
    action_link_hours: float = Field(default=24.0, gt=0, le=24 * 30)
    smtp_host: str | None = None
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "watchbill@localhost"
    smtp_starttls: bool = False
    smtp_tls: bool = False
    notify_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    oncall_sleep_hours: str = Field(
        default="22:00-07:00", description="HH:MM-HH:MM, read in each person's own zone"
    )
    oncall_max_hours_per_week: float = Field(
        default=42.0, ge=0, le=168, description="0 turns the warning off"
    )
    oncall_max_sleep_pages_per_week: float = Field(
        default=3.0, ge=0, description="0 turns the warning off"
    )
    oncall_max_nights_interrupted_per_week: float = Field(
        default=2.0, ge=0, le=7, description="0 turns the warning off"
    )

    @field_validator("base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("oncall_sleep_hours")
    @classmethod
    def _sleep_window(cls, value: str) -> str:
        return str(parse_window(value))

    @property
    def sleep_hours(self) -> DailyWindow:
        return parse_window(self.oncall_sleep_hours)

    @property
    def oncall_limits(self) -> Limits:
        """The per-week on-call health limits."""
        return Limits(
            hours_on_call=self.oncall_max_hours_per_week,
            sleep_pages=self.oncall_max_sleep_pages_per_week,
            nights_interrupted=self.oncall_max_nights_interrupted_per_week,
        )

    @property
    def https_site(self) -> bool:
        """Whether browsers reach the site over HTTPS (perhaps through a proxy)."""
        return self.base_url.startswith("https://")

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'watchbill.db').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
