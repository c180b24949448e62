"""The assistant's settings: none configured means no assistant; a base URL needs a model."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from adapters.assistant import OpenAIAssistant
from api.adapterchoice import build_assistant
from api.settings import Settings


def test_without_a_base_url_there_is_no_assistant() -> None:
    assert build_assistant(Settings()) is None


def test_a_base_url_and_a_model_build_the_openai_compatible_assistant() -> None:
    settings = Settings(assistant_base_url="http://localhost:11434/v1/", assistant_model="llama3")

    assistant = build_assistant(settings)

    assert isinstance(assistant, OpenAIAssistant) and assistant.model == "llama3"


def test_a_base_url_without_a_model_is_refused() -> None:
    with pytest.raises(ValidationError, match="needs CHRONICLE_ASSISTANT_MODEL"):
        Settings(assistant_base_url="http://localhost:11434/v1")


def test_the_models_a_plan_allows_come_from_the_settings() -> None:
    settings = Settings(assistant_models_pro=["large", "small"])

    assert settings.assistant_models.allowed("pro") == ("large", "small")
    assert settings.assistant_models.allowed("free") == ()
