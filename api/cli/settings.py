"""Settings for the ``chronicle`` commands: from the environment, or an exit naming what is bad."""

from __future__ import annotations

import logging

import typer
from pydantic import ValidationError

from api.settings import Settings


def configured(level: int = logging.INFO) -> Settings:
    """Settings, with logging set up at ``level``."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    return load_settings()


def load_settings() -> Settings:
    """Settings from the environment, or exit naming each bad CHRONICLE_ variable."""
    try:
        return Settings()
    except ValidationError as exc:
        for error in exc.errors():
            name = "CHRONICLE_" + "_".join(str(p) for p in error["loc"]).upper()
            typer.echo(f"invalid setting {name}: {error['msg']}", err=True)
        raise typer.Exit(2) from None
