"""Matching the model name a gateway logged to a price entry's name.

Gateways log names with provider or region prefixes (`azure/eu/gpt-4o`, `bedrock/us.anthropic.
claude-3-5-sonnet-20240620-v1:0`, `openrouter/openai/gpt-4o`), Vertex spells dates with `@`
(`claude-3-5-sonnet@20240620`), and dated snapshots carry their date (`gpt-4o-2024-08-06`).
`candidates` lists the spellings to try, most specific first: the name as logged, then without
prefixes, then without the Bedrock version and the date suffix.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Gateway provider names → the provider ids price libraries use (genai-prices' ids).
PROVIDER_IDS: dict[str, str] = {
    "openai": "openai",
    "text-completion-openai": "openai",
    "azure": "azure",
    "azure_ai": "azure",
    "anthropic": "anthropic",
    "bedrock": "aws",
    "bedrock_converse": "aws",
    "aws": "aws",
    "sagemaker": "aws",
    "vertex_ai": "google",
    "vertex_ai_beta": "google",
    "gemini": "google",
    "google": "google",
    "xai": "x-ai",
    "x-ai": "x-ai",
    "mistral": "mistral",
    "groq": "groq",
    "together_ai": "together",
    "together": "together",
    "fireworks_ai": "fireworks",
    "fireworks": "fireworks",
    "deepseek": "deepseek",
    "cohere": "cohere",
    "cohere_chat": "cohere",
    "perplexity": "perplexity",
    "openrouter": "openrouter",
    "cerebras": "cerebras",
}

_PREFIX_WORDS = {
    *PROVIDER_IDS,
    "eu",
    "us",
    "apac",
    "global",
    "us-gov",
    "regional",
    "converse",
    "invoke",
}
_REGION = re.compile(r"^(us|eu|apac|global|jp|au|ca|us-gov)\.")
_BEDROCK_VENDOR = re.compile(r"^(anthropic|meta|amazon|cohere|mistral|ai21|deepseek|qwen|openai)\.")
_BEDROCK_VERSION = re.compile(r"-v\d+(:\d+)?$|:\d+$")
_DATE = re.compile(
    r"([-@_])(20\d{2}-?[01]\d-?[0-3]\d|[01]\d-?[0-3]\d|\d{4})$"  # -2024-08-06, -20240806, -0613
)


def provider_id(provider: str | None) -> str | None:
    """A gateway's provider name as a price library's provider id (lower-cased as is if
    unknown), or None."""
    if provider is None or not provider.strip():
        return None
    key = provider.strip().lower()
    return PROVIDER_IDS.get(key, key)


def _without_prefixes(name: str) -> str:
    parts = name.split("/")
    while len(parts) > 1 and parts[0] in _PREFIX_WORDS:
        parts = parts[1:]
    return "/".join(parts)


@lru_cache(maxsize=65536)
def candidates(model: str) -> tuple[str, ...]:
    """Spellings of a logged model name to look up, most specific first (lower-cased)."""
    name = model.strip().lower()
    found = [name]
    bare = _without_prefixes(name)
    found.append(bare)
    last = bare.rsplit("/", 1)[-1]  # openrouter/openai/gpt-4o → gpt-4o
    found.append(last)
    plain = _BEDROCK_VERSION.sub("", _BEDROCK_VENDOR.sub("", _REGION.sub("", last)))
    found.append(plain)
    undated = _DATE.sub("", plain)
    found.append(undated)
    return tuple(dict.fromkeys(c for c in found if c))
