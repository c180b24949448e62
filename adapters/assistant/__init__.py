"""The assistant: the ``Assistant`` port and its adapter for OpenAI-compatible chat completions."""

from adapters.assistant.openai import OpenAIAssistant
from adapters.assistant.port import Assistant

__all__ = ["Assistant", "OpenAIAssistant"]
