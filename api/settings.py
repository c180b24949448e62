"""Settings, read from the environment with the ``CHRONICLE_`` prefix."""

from pathlib import Path
from typing import Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    threads: int = Field(default=32, ge=1, description="Request threads; the pool gets as many.")
    workers: int = Field(
        default=1,
        ge=1,
        description="API processes serving the one port, each with its own command executor "
        "(`--workers` overrides it); `serve` runs the projectors once, in the parent.",
    )

    command_max_attempts: int = Field(default=20, ge=1)
    command_timeout_seconds: float = Field(default=30.0, gt=0)
    read_wait_seconds: float = Field(default=5.0, ge=0, description="Read-your-writes bound.")
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
        default=25 * 1024 * 1024, ge=1, description="Largest upload the local store accepts."
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

    @field_validator("public_base_url")
    @classmethod
    def _without_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @model_validator(mode="after")
    def _default_storage_dir(self) -> Self:
        if self.storage_dir is None:
            self.storage_dir = self.data_dir / "objects"
        return self

    @property
    def pool_size(self) -> int:
        return self.threads + 4
