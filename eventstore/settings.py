"""Settings, read from the environment with the ``CHRONICLE_`` prefix."""

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything Chronicle can be configured with; each has a working local default."""

    model_config = SettingsConfigDict(env_prefix="CHRONICLE_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL; without one an embedded server runs under data_dir.",
    )
    data_dir: Path = Field(default=Path(".data"), description="Embedded database, JWT secret.")
    jwt_secret: SecretStr | None = Field(
        default=None, description="HS256 secret; without one a random secret is kept in data_dir."
    )
    signup_credits: int = Field(default=10, ge=0)
    user_token_days: int = Field(default=365, ge=1)
    admin_token_minutes: int = Field(default=60, ge=1)

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    threads: int = Field(default=32, ge=1, description="Request threads; the pool gets as many.")

    command_max_attempts: int = Field(default=20, ge=1)
    command_timeout_seconds: float = Field(default=30.0, gt=0)
    read_wait_seconds: float = Field(default=5.0, ge=0, description="Read-your-writes bound.")
    projector_batch_size: int = Field(default=500, ge=1)
    projector_poll_seconds: float = Field(default=1.0, gt=0)

    @property
    def pool_size(self) -> int:
        return self.threads + 4
