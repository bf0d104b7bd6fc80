"""The one typed settings object, read from ``HOTLINE_*`` environment variables."""

from __future__ import annotations

import datetime as dt
import ipaddress
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class SettingsError(RuntimeError):
    """Settings that cannot run (for example production without secrets)."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOTLINE_", extra="ignore")

    env: Literal["development", "production"] = "development"
    database_url: str | None = None
    # A streaming replica of the primary for what only reads and may be a little behind:
    # reports, rankings, hot issues, exports (docs/reports.md). Unset: they read the primary.
    read_database_url: str | None = None
    redis_url: str | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    public_url: str | None = None
    secret_key: SecretStr | None = None
    var_dir: Path = Path("var")
    timezone: str = "Asia/Shanghai"
    # Working periods of a working day, local time; lunch is not working time.
    working_hours: str = "09:00-12:00,13:00-18:00"
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    session_hours: int = Field(default=12, ge=1)
    queue_name: str = "hotline"
    relay_interval: float = Field(default=0.25, gt=0)
    relay_batch: int = Field(default=200, ge=1)
    lease_seconds: int = Field(default=60, ge=5)
    # ``hotline up`` (wiring/supervisor.py) restarts a child that exits, and gives up,
    # stopping everything, when one child exits this many times within this many seconds.
    restart_max_crashes: int = Field(default=5, ge=1)
    restart_window_seconds: float = Field(default=300, gt=0)
    # Outbound enterprise webhooks: http and private/loopback destinations only when
    # true (tests, local development); seconds a delivery attempt may take.
    webhook_allow_private: bool = False
    webhook_timeout: float = Field(default=10, gt=0)
    # Ports a webhook URL may name (ports and ranges, comma-separated): an enterprise
    # administrator must not aim our requests at whatever else listens on a host.
    webhook_ports: str = "443,8443"
    log_level: str = "INFO"
    # json: one JSON object per line (the default in production); text: for people.
    log_format: Literal["json", "text"] | None = None
    # Login throttling (hotline/users/throttle.py): failures in a row answered at once,
    # per account and per client address; then each next attempt waits 1 s, 2 s, 4 s …
    # up to the cap; this many failures in a row lock an account until an admin unlocks it.
    login_free_failures: int = Field(default=5, ge=1)
    login_address_free_failures: int = Field(default=20, ge=1)
    login_max_delay_seconds: int = Field(default=900, ge=1)
    login_lockout_failures: int = Field(default=15, ge=2)
    # When set, GET /metrics needs "Authorization: Bearer <token>".
    metrics_token: SecretStr | None = None
    # Reverse proxies (addresses or networks, comma-separated) whose X-Forwarded-For
    # names the client (web/proxy.py); empty: the peer address is the client.
    trusted_proxies: str = ""
    # The escalation ladder: yellow at this share of the resolution limit, public notice
    # (通报) this many working days after it.
    warning_fraction: float = Field(default=0.8, gt=0, lt=1)
    public_notice_working_days: int = Field(default=5, ge=1)
    # 办不成事 (hard cases): resolved within this many working days of registration, or
    # the item's own limit when that is shorter.
    hard_case_working_days: int = Field(default=3, ge=1)
    # Duplicate suggestions: look back this far, and this address similarity (pg_trgm).
    duplicate_window_hours: int = Field(default=72, ge=1)
    duplicate_similarity: float = Field(default=0.45, gt=0, le=1)
    # Order-entry suggestions (hotline/suggest, docs/suggest.md): the labelled corpus and
    # the thesaurus the classifier trains on; below this probability the first item is
    # offered as "not sure"; the nightly retraining starts at this local hour.
    suggest_corpus: Path = Path(__file__).resolve().parent.parent / "config/suggest/corpus.jsonl"
    suggest_concepts: Path = Path(__file__).resolve().parent.parent / "config/suggest/concepts.json"
    suggest_sure_at: float = Field(default=0.5, gt=0, lt=1)
    suggest_training_hour: int = Field(default=2, ge=0, le=23)
    # A run at once when the relay starts and no version is promoted (off: wait for the
    # night or a supervisor; the tests' process stacks need no model).
    suggest_first_run: bool = True
    # Proof files: where they are kept (default var_dir/proofs) and how big one may be.
    proof_dir: Path | None = None
    proof_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    # hotline backup/restore: the folder of pg_dump and pg_restore of the server's major
    # version (default: looked for, see wiring/backup.py).
    pg_bin_dir: Path | None = None
    # Public intake (Open311, the web form, SMS): hits allowed per client address and per
    # phone number in each fixed window of this many seconds (integrations/ratelimit.py).
    public_rate_per_ip: int = Field(default=30, ge=1)
    public_rate_per_phone: int = Field(default=5, ge=1)
    public_rate_window_seconds: int = Field(default=600, ge=1)
    # Telephony (integrations/telephony): Twilio's auth token checks every webhook's
    # signature and, with the account SID, sends through the REST API; ``twilio_api_base``
    # points that API elsewhere (tests: a local fake). ``log`` sends nothing, only logs.
    twilio_auth_token: SecretStr | None = None
    twilio_account_sid: str | None = None
    twilio_api_base: str | None = None
    telephony_provider: Literal["log", "twilio"] = "log"
    # Seconds a caller waits in the queue before being offered to leave a message.
    agent_answer_seconds: int = Field(default=60, ge=5)
    # Live pushes (web/live*.py, docs/console.md): the Redis channel (one per
    # installation sharing a Redis); how often the publisher looks for new events; a
    # reconnecting console gets at most this many missed events, none older than this,
    # else it reloads; how often web processes check their connections' sessions.
    live_channel: str = "hotline-live"
    live_poll_seconds: float = Field(default=0.1, gt=0)
    live_replay_limit: int = Field(default=1000, ge=1)
    live_replay_hours: float = Field(default=24, gt=0)
    live_session_check_seconds: float = Field(default=30, gt=0)
    # Agent presence (hotline/board/presence.py): an agent without a console connection
    # for this long is set offline; web processes renew their connections this often and
    # one silent for three heartbeats is taken as dead.
    agent_presence_grace_seconds: float = Field(default=30, gt=0)
    live_heartbeat_seconds: float = Field(default=10, gt=0)
    # Callbacks (callbacks/, docs/callbacks.md): the first attempt this many working
    # hours after completion, only inside the calling hours of allowed days (working days
    # of the calendar minus the quiet days, ISO dates comma-separated); at most
    # ``callback_max_attempts``, the next ones these many minutes after a failed one.
    callback_delay_working_hours: float = Field(default=2, ge=0)
    callback_calling_hours: str = "09:00-20:00"
    callback_quiet_days: str = ""
    callback_max_attempts: int = Field(default=3, ge=1, le=10)
    callback_retry_minutes: str = "120,1440"
    # Hours an SMS survey waits for a reply before the next attempt (or unreachable).
    callback_sms_reply_hours: float = Field(default=24, gt=0)
    # A call placed more than this many minutes after its due time is first checked
    # against the calling hours again (0: never checked again).
    callback_max_lateness_minutes: int = Field(default=30, ge=0)
    # Pacing per provider account: calls started per clock second, calls at once.
    callback_calls_per_second: float = Field(default=5, gt=0, le=1000)
    callback_max_concurrent_calls: int = Field(default=30, ge=1)
    # A placement whose worker died is given up after this long without a status callback.
    callback_placing_timeout_seconds: int = Field(default=600, ge=30)
    # Spot checks: the default share of a unit's closed orders in a week.
    callback_spot_check_share: float = Field(default=0.05, gt=0, le=1)
    # 三率: weights of response, resolution and satisfaction rates in the score.
    callback_score_weights: str = "30,35,35"
    # Periodic reports (reports/periodic, docs/reports.md): today's and yesterday's day
    # counts are rolled every this many minutes; each morning at this local hour the last
    # this many days are rolled again and the day's, week's and month's reports made.
    report_recent_minutes: int = Field(default=10, ge=1)
    report_morning_hour: int = Field(default=6, ge=0, le=23)
    report_roll_days: int = Field(default=7, ge=1, le=60)

    @field_validator(
        "database_url",
        "read_database_url",
        "redis_url",
        "public_url",
        "secret_key",
        "metrics_token",
        "twilio_auth_token",
        "twilio_account_sid",
        "twilio_api_base",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # An empty variable (docker compose's ${VAR:-}) means "not set": an empty Twilio
        # token would otherwise let anyone sign webhooks with the empty key.
        return None if value == "" else value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        for part in filter(None, (p.strip() for p in value.split(","))):
            ipaddress.ip_network(part)  # ValueError names the bad entry
        return value

    @field_validator("webhook_ports")
    @classmethod
    def _ports(cls, value: str) -> str:
        if not parse_ports(value):
            raise ValueError("name at least one port")
        return value

    @field_validator("public_url")
    @classmethod
    def _strip_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    @cached_property
    def working_periods(self) -> list[tuple[dt.time, dt.time]]:
        return parse_working_hours(self.working_hours)

    @cached_property
    def webhook_port_ranges(self) -> tuple[tuple[int, int], ...]:
        return parse_ports(self.webhook_ports)

    @property
    def timer_queue_name(self) -> str:
        return f"{self.queue_name}-timers"

    @property
    def slow_queue_name(self) -> str:
        return f"{self.queue_name}-slow"

    @property
    def effective_log_format(self) -> Literal["json", "text"]:
        return self.log_format or ("json" if self.env == "production" else "text")

    @property
    def proof_root(self) -> Path:
        return self.proof_dir or self.var_dir / "proofs"

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://localhost:{self.port}"

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    def check_production(self) -> None:
        """Refuse to run in production on development defaults."""
        if self.env != "production":
            return
        missing = [
            name
            for name, value in (
                ("HOTLINE_SECRET_KEY", self.secret_key),
                ("HOTLINE_DATABASE_URL", self.database_url),
                ("HOTLINE_REDIS_URL", self.redis_url),
                ("HOTLINE_PUBLIC_URL", self.public_url),
                # /metrics names queues, backlogs and routes: not for anyone who asks.
                ("HOTLINE_METRICS_TOKEN", self.metrics_token),
            )
            if not value
        ]
        if self.telephony_provider == "twilio":
            missing += [
                name
                for name, value in (
                    ("HOTLINE_TWILIO_AUTH_TOKEN", self.twilio_auth_token),
                    ("HOTLINE_TWILIO_ACCOUNT_SID", self.twilio_account_sid),
                )
                if not value
            ]
        if missing:
            raise SettingsError("production mode needs " + ", ".join(missing))
        assert self.secret_key is not None
        if len(self.secret_key.get_secret_value()) < 32:
            raise SettingsError("HOTLINE_SECRET_KEY must be at least 32 characters")
        if not self.base_url.startswith("https://"):
            # Over plain http the session cookie and passwords cross the network in clear,
            # and browsers get neither Secure cookies nor HSTS.
            raise SettingsError(
                f"HOTLINE_PUBLIC_URL must start with https:// in production, not {self.base_url}"
            )


def parse_working_hours(text: str) -> list[tuple[dt.time, dt.time]]:
    """Parse ``"09:00-12:00,13:00-18:00"`` into ordered, non-overlapping periods."""
    periods: list[tuple[dt.time, dt.time]] = []
    for part in text.split(","):
        try:
            start_text, end_text = part.strip().split("-")
            start, end = dt.time.fromisoformat(start_text), dt.time.fromisoformat(end_text)
        except ValueError as exc:
            raise SettingsError(f"working hours {part!r} are not HH:MM-HH:MM") from exc
        if start >= end or (periods and start < periods[-1][1]):
            raise SettingsError(f"working hours {text!r} must be ordered and not overlap")
        periods.append((start, end))
    if not periods:
        raise SettingsError("working hours are empty")
    return periods


def parse_ports(text: str) -> tuple[tuple[int, int], ...]:
    """Parse ``"443,8443,9000-9100"`` into inclusive ranges; ValueError names a bad entry."""
    ranges: list[tuple[int, int]] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        low, _, high = part.partition("-")
        try:
            first, last = int(low), int(high or low)
        except ValueError as exc:
            raise ValueError(f"{part!r} is not a port or a range of ports") from exc
        if not 1 <= first <= last <= 65535:
            raise ValueError(f"{part!r} is not a port or range within 1-65535")
        ranges.append((first, last))
    return tuple(ranges)
