"""Settings, read from the environment with the ``CHRONICLE_`` prefix."""

import ipaddress
from pathlib import Path
from typing import Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.assistant import AssistantModels
from domain.quotas import ASSISTANT_TURNS, JOBS, Quotas


class Settings(BaseSettings):
    """Everything Chronicle can be configured with; each has a working local default."""

    model_config = SettingsConfigDict(env_prefix="CHRONICLE_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL; without one an embedded server runs under data_dir.",
    )
    read_database_url: str | None = Field(
        default=None,
        description="A streaming replica of database_url for queries; min_position waits on "
        "its replicated projection positions. Without one queries read the primary.",
    )
    data_dir: Path = Field(default=Path(".data"), description="Embedded database, JWT secret.")
    jwt_secret: SecretStr | None = Field(
        default=None,
        min_length=32,
        description="HS256 secret (32 bytes or more); without one a random secret is kept "
        "in data_dir.",
    )
    signup_credits: int = Field(default=10, ge=0)
    user_token_days: int = Field(default=365, ge=1)
    admin_token_minutes: int = Field(default=60, ge=1)
    # An audit viewer session, never past its admin token's expiry.
    admin_session_minutes: int = Field(default=480, ge=1)
    worker_token_days: int = Field(default=30, ge=1)

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    threads: int = Field(
        default=32,
        ge=1,
        description="Request threads per API process; each pool may grow to as many (plus "
        "the writers and consumers), see the README's connection budget.",
    )
    workers: int = Field(
        default=1,
        ge=1,
        description="API processes serving the one port, each with its own command executor "
        "(`--workers` overrides it); `serve` runs the projectors once, in the parent.",
    )

    command_max_attempts: int = Field(default=20, ge=1)
    command_timeout_seconds: float = Field(default=30.0, gt=0)
    read_wait_seconds: float = Field(default=5.0, ge=0, description="Read-your-writes bound.")
    live_heartbeat_seconds: float = Field(
        default=15.0, gt=0, le=300, description="A live stream's comment when idle this long."
    )
    live_queue_size: int = Field(
        default=1000,
        ge=1,
        description="Events a live stream may have waiting; a client slower than that is "
        "disconnected (it resumes from its last id).",
    )
    live_tail_size: int = Field(
        default=10_000, ge=0, description="Newest events each process keeps for resumes."
    )
    shutdown_grace_seconds: int = Field(
        default=10,
        gt=0,
        description="How long a stop waits for requests in flight (streams end at once).",
    )
    database_wait_seconds: float = Field(
        default=3.0,
        gt=0,
        le=60,
        description="Longest wait for a database connection before answering 503.",
    )
    request_max_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        description="Largest request body; the local store's uploads have upload_max_bytes.",
    )
    metrics_public: bool = Field(
        default=False,
        description="Serve /metrics to any client; by default only loopback clients get it "
        "(others get 404). Behind a proxy on the same host every client looks local: "
        "block /metrics at the proxy.",
    )
    projector_batch_size: int = Field(default=500, ge=1)
    projector_poll_seconds: float = Field(default=1.0, gt=0)
    reactor_batch_size: int = Field(default=100, ge=1, description="Events a reactor reads.")
    reactor_max_attempts: int = Field(
        default=5, ge=1, description="Deliveries of one event before a reactor parks it."
    )
    reactor_retry_seconds: float = Field(
        default=0.2, gt=0, description="A reactor's first retry delay; it doubles each time."
    )
    reactor_retry_max_seconds: float = Field(
        default=5.0, gt=0, description="The longest delay between a reactor's retries."
    )

    presets_file: Path | None = Field(
        default=None, description="Job presets (JSON); default: the presets shipped with Chronicle."
    )
    job_upload_timeout_seconds: float = Field(
        default=3600, gt=0, description="A job not uploaded within this is canceled and refunded."
    )
    job_stall_timeout_seconds: float = Field(
        default=600, gt=0, description="A running job with no progress for this long is failed."
    )
    job_queue_timeout_seconds: float = Field(
        default=86400,
        gt=0,
        description="A job uploaded but never executed, or queued with no item ever leased, "
        "for this long is canceled and refunded.",
    )
    deadline_poll_seconds: float = Field(default=1.0, gt=0)
    lease_seconds: int = Field(default=60, ge=1, le=3600, description="A worker's item lease.")
    lease_max_attempts: int = Field(
        default=3, ge=1, description="Leases of one item before it is failed."
    )
    callback_batch_max: int = Field(
        default=100, ge=1, le=1000, description="Item results one POST /jobs/{id}/callbacks takes."
    )

    s3_bucket: str | None = Field(
        default=None, description="S3/R2/MinIO bucket; without one objects live under storage_dir."
    )
    s3_endpoint_url: str | None = Field(
        default=None, description="S3 API endpoint (R2, MinIO); none means AWS S3."
    )
    s3_region: str = Field(default="auto", description="Signing region; R2 takes 'auto'.")
    s3_access_key_id: SecretStr | None = None
    s3_secret_access_key: SecretStr | None = None
    s3_path_style: bool = Field(
        default=False, description="Path-style bucket addressing (MinIO and most self-hosted)."
    )
    storage_dir: Path | None = Field(
        default=None, description="Local object store without a bucket; default data_dir/objects."
    )
    public_base_url: str = Field(
        default="http://127.0.0.1:8000", description="This API as clients reach it (upload URLs)."
    )
    upload_url_seconds: int = Field(default=900, ge=1, le=7 * 24 * 3600)
    upload_max_bytes: int = Field(
        default=25 * 1024 * 1024,
        ge=1,
        description="Largest upload (or part of an upload session) the local store accepts.",
    )
    upload_session_max_bytes: int = Field(
        default=5 * 1024**3,
        ge=1,
        le=5 * 1024**4,
        description="Largest file one upload session carries (S3 allows 5 TiB).",
    )
    upload_part_bytes: int = Field(
        default=8 * 1024 * 1024,
        ge=5 * 1024 * 1024,
        le=5 * 1024**3,
        description="An upload session's part size unless its client asks another (S3: 5 MiB "
        "to 5 GiB); larger when the file would need more than 10,000 parts.",
    )
    upload_session_seconds: float = Field(
        default=24 * 3600,
        gt=0,
        description="An upload session not completed within this expires; its parts are dropped.",
    )

    test_max_title: int = Field(default=200, ge=1, le=1000, description="A test's title length.")
    test_max_questions: int = Field(default=200, ge=1, le=1000, description="Questions per test.")
    test_max_document_bytes: int = Field(
        default=256 * 1024,
        ge=1024,
        description="A test document's JSON size; a larger save is refused with 413.",
    )
    image_max_bytes: int = Field(
        default=5 * 1024 * 1024, ge=1024, description="Largest test image; larger is 413."
    )
    test_cache_seconds: float = Field(
        default=300,
        gt=0,
        description="How long test reads stay cached (server cache, and s-maxage for a CDN); "
        "a save purges them at once.",
    )
    meilisearch_url: str | None = Field(
        default=None,
        description="Meilisearch for test search; without one PostgreSQL's search is used.",
    )
    meilisearch_api_key: SecretStr | None = None
    meilisearch_index: str = Field(default="tests", description="The Meilisearch index uid.")
    embedding_model: str = Field(
        default="use-multilingual-v3",
        description="The embedding model of meaning search and similar tests (adapters/embeddings"
        "/models.py), from the extra chronicle[semantic]; 'none' turns meaning search off. "
        "Changing it embeds every test again; the old vectors answer until that is done.",
    )
    embedding_dimension: int = Field(
        default=512, ge=1, le=16000, description="The dimension of the model's vectors."
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis for the test cache; without one the cache is in-process (then "
        "run the projectors in the API's process: `chronicle serve`).",
    )
    redis_prefix: str = Field(default="chronicle:", description="Prefix of every Redis key.")
    cdn_purge_url: str | None = Field(
        default=None,
        description="An HTTP endpoint that purges CDN URLs (Cloudflare's purge_cache shape: "
        'POST {"files": [...]}); without one no CDN is purged.',
    )
    cdn_purge_token: SecretStr | None = Field(
        default=None, description="Sent as 'Authorization: Bearer <token>' to cdn_purge_url."
    )
    assistant_base_url: str | None = Field(
        default=None,
        description="An OpenAI-compatible chat-completions API (OpenAI, Gemini, Ollama, vLLM, "
        "llama.cpp), e.g. https://api.openai.com/v1; without one there is no assistant.",
    )
    assistant_model: str | None = Field(
        default=None, description="The model the assistant answers with unless a user chose one."
    )
    assistant_api_key: SecretStr | None = Field(
        default=None, description="Sent as 'Authorization: Bearer <key>' to assistant_base_url."
    )
    assistant_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        description="Longest wait to connect, for the first words, and between two chunks.",
    )
    assistant_max_attempts: int = Field(
        default=3,
        ge=1,
        le=10,
        description="Attempts of one reply before its first words (never after: a reply cut "
        "off midway is recorded interrupted).",
    )
    assistant_image_max_bytes: int = Field(
        default=5 * 1024 * 1024,
        ge=0,
        description="An image attached to a question is shown to the assistant up to this size "
        "(0: never); larger files and other kinds are only named to it.",
    )
    assistant_models_free: list[str] = Field(
        default_factory=list,
        description="Models a free user may choose besides the default (JSON list).",
    )
    assistant_models_pro: list[str] = Field(
        default_factory=list,
        description="Models a pro user may choose besides the default (JSON list).",
    )

    rate_limit_signup: str = Field(
        default="30/hour",
        description="Sign-ups (POST /auth/anon) per client address; '' turns the limit off.",
    )
    rate_limit_commands: str = Field(
        default="600/minute", description="Changes (POST, PUT, DELETE) per user, else per address."
    )
    rate_limit_reads: str = Field(
        default="3000/minute", description="Reads (GET) per user, else per client address."
    )
    rate_limit_worker: str = Field(
        default="12000/minute", description="Worker API requests (leases, callbacks) per worker."
    )
    rate_limit_admin: str = Field(default="3000/minute", description="Admin requests per admin.")
    quota_jobs_per_day_free: int | None = Field(
        default=100, ge=0, description="Jobs a free user may start a UTC day (none: no quota)."
    )
    quota_jobs_per_day_pro: int | None = Field(
        default=5000, ge=0, description="Jobs a pro user may start a UTC day (none: no quota)."
    )
    quota_assistant_turns_per_day_free: int | None = Field(default=50, ge=0)
    quota_assistant_turns_per_day_pro: int | None = Field(default=2000, ge=0)
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses or CIDR ranges of reverse proxies whose Forwarded or "
        'X-Forwarded-For names the client (JSON list, e.g. ["10.0.0.0/8"]); from anyone else '
        "both headers are ignored.",
    )

    @field_validator(
        "rate_limit_signup",
        "rate_limit_commands",
        "rate_limit_reads",
        "rate_limit_worker",
        "rate_limit_admin",
    )
    @classmethod
    def _a_limit(cls, value: str) -> str:
        return _checked_limit(value)

    @field_validator(
        "quota_jobs_per_day_free",
        "quota_jobs_per_day_pro",
        "quota_assistant_turns_per_day_free",
        "quota_assistant_turns_per_day_pro",
        mode="before",
    )
    @classmethod
    def _no_quota(cls, value: object) -> object:
        return None if isinstance(value, str) and value.strip().lower() in ("", "none") else value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for network in value:
            ipaddress.ip_network(network, strict=False)  # ValueError names the bad one
        return value

    @property
    def quotas(self) -> Quotas:
        """The daily quotas per plan, as the commands take them."""
        limits = {
            "free": {
                JOBS: self.quota_jobs_per_day_free,
                ASSISTANT_TURNS: self.quota_assistant_turns_per_day_free,
            },
            "pro": {
                JOBS: self.quota_jobs_per_day_pro,
                ASSISTANT_TURNS: self.quota_assistant_turns_per_day_pro,
            },
        }
        return Quotas(
            {
                plan: {k: n for k, n in kinds.items() if n is not None}
                for plan, kinds in limits.items()
            }
        )

    @property
    def assistant_models(self) -> AssistantModels:
        """The models each plan's users may choose, as the commands take them."""
        return AssistantModels(
            {"free": tuple(self.assistant_models_free), "pro": tuple(self.assistant_models_pro)}
        )

    @property
    def rate_limits(self) -> dict[str, str]:
        """Each route group's limit ('' for none), as ``api.ratelimit`` takes them."""
        return {
            "signup": self.rate_limit_signup,
            "commands": self.rate_limit_commands,
            "reads": self.rate_limit_reads,
            "worker": self.rate_limit_worker,
            "admin": self.rate_limit_admin,
        }

    @field_validator("public_base_url")
    @classmethod
    def _without_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("assistant_base_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value and value.strip() else None

    @model_validator(mode="after")
    def _assistant_has_a_model(self) -> Self:
        if self.assistant_base_url and not self.assistant_model:
            raise ValueError("CHRONICLE_ASSISTANT_BASE_URL needs CHRONICLE_ASSISTANT_MODEL")
        return self

    @model_validator(mode="after")
    def _default_storage_dir(self) -> Self:
        if self.storage_dir is None:
            self.storage_dir = self.data_dir / "objects"
        return self


def _checked_limit(value: str) -> str:
    """``value`` when it is '' (no limit) or a limit such as '30/hour' or '5 per second'."""
    if value.strip():
        from limits import parse

        try:
            parse(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a rate limit such as '30/hour'") from None
    return value.strip()
