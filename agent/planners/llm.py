"""LLM planner: ChatOpenAI against any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, llama.cpp)."""

from __future__ import annotations

from ...configuration import Configuration


def make_chat_openai(config: Configuration):
    from langchain_openai import ChatOpenAI
    from pydantic import SecretStr

    return ChatOpenAI(
        model=config.model,
        base_url=config.base_url,
        api_key=SecretStr(config.api_key or "not-needed"),  # local servers often take any key
        timeout=config.llm_timeout_s,
        max_retries=config.llm_max_retries,
        temperature=0,
    )


def make_planner(config: Configuration):
    if config.planner == "offline":
        from .offline import OfflinePlanner

        return OfflinePlanner(use_embeddings=config.use_embeddings)
    if config.planner == "openai":
        return make_chat_openai(config)
    raise ValueError(f"unknown planner {config.planner!r}; choose 'offline' or 'openai'")
