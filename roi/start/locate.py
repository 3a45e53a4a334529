"""What a URL or DSN names, for `roi connect`: a service's API (OpenAI's and Anthropic's usage
and cost reports, OpenCost) or a database (LiteLLM's PostgreSQL), asked of every connector type
that reads URLs (`Connector.recognises_url`), and the secrets its definition names.

Secrets never reach the definition: a URL holding a password or a key is refused with the option
that names the environment variable instead, and every variable named must be set now (the
load that follows reads it).
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from roi.config import redact_url
from roi.config.project import SECRET_WORDS
from roi.connectors import connector_class, connector_types
from roi.errors import ConfigError, SourceError


@dataclass(frozen=True)
class Located:
    """The connector type a URL or DSN is, why, and what its definition holds."""

    type: str
    reason: str
    shown: str  # what roi looked at, without credentials
    url: str | None
    secrets: Mapping[str, str] = field(default_factory=dict)  # secret → environment variable
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Secrets:
    """The environment variables `roi connect` was given (`--key-env`, `--dsn-env`, …)."""

    key: str | None = None
    dsn: str | None = None
    password: str | None = None


def is_location(source: str) -> bool:
    """Whether `source` is a URL (a service or a database), not a path."""
    return "://" in source


def _refuse_credentials(url: str) -> None:
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qs(parts.query)
    if parts.password is not None:
        raise ConfigError(
            f"{redact_url(url)}: the URL holds a password, which roi never writes to "
            "connectors/; remove it and pass --password-env VAR (the variable holding the "
            "password), or --dsn-env VAR (the whole connection string in the environment)"
        )
    if [k for k in query if any(word in k.lower() for word in SECRET_WORDS)]:
        raise ConfigError(
            f"{redact_url(url)}: the URL holds a key or token in its query, which roi never "
            "writes to connectors/; remove it and pass --key-env VAR (the variable holding it)"
        )


def _url_types() -> list[str]:
    return [t for t in connector_types() if connector_class(t).reads_urls]


def _recognise(url: str, connector_type: str | None) -> tuple[str, str, str, dict[str, Any]]:
    """(type, why, the definition's url, implied options) for `url`."""
    for name in [connector_type] if connector_type else _url_types():
        cls = connector_class(name)
        match = cls.recognises_url(url)
        if match is not None:
            return name, match.reason, match.url, dict(match.options)
    if connector_type:
        if not connector_class(connector_type).reads_urls:
            raise ConfigError(
                f"connector type {connector_type!r} reads files, not URLs; download "
                f"{redact_url(url)} first and connect the file (types that read URLs: "
                f"{', '.join(_url_types())})"
            )
        return connector_type, f"--type {connector_type}", url, {}
    raise SourceError(
        f"{redact_url(url)}: roi does not recognise this URL; give the report's own URL (e.g. "
        "https://api.openai.com/v1/organization/usage/completions, …/v1/organization/costs, "
        "https://api.anthropic.com/v1/organizations/cost_report, OpenCost's …/allocation, "
        "postgresql://user@host:5432/litellm) or name its type with --type "
        f"({', '.join(_url_types())})"
    )


def _secrets(name: str, given: Secrets, url: str | None) -> dict[str, str]:
    """The `<secret>_env` keys of the definition, checked against what the type takes."""
    cls = connector_class(name)
    out: dict[str, str] = {}
    if given.key:
        if cls.key_secret is None:
            raise ConfigError(f"connector type {name!r} takes no API key or token (--key-env)")
        out[cls.key_secret] = given.key
    for secret, var in (("dsn", given.dsn), ("password", given.password)):
        if var and not cls.takes_dsn:
            raise ConfigError(f"connector type {name!r} reads no database (--{secret}-env)")
        if var:
            out[secret] = var
    if "dsn" in out and url is not None:
        raise ConfigError("give either a postgresql:// URL or --dsn-env, not both")
    if cls.key_required and cls.key_secret not in out:
        raise ConfigError(
            f"connector type {name!r} reads its API with an admin key: pass --key-env VAR "
            "naming the environment variable that holds it (never the key itself)"
        )
    for secret, var in out.items():
        if not os.environ.get(var):
            raise ConfigError(
                f"environment variable {var} (--{'key' if secret == cls.key_secret else secret}"
                "-env) is not set; export it, then run roi connect again"
            )
    return out


def locate(
    source: str | None, connector_type: str | None, given: Secrets, options: Mapping[str, Any]
) -> Located:
    """The connector a URL (or `--dsn-env` alone) names, its secrets and its options (the URL's
    and the given ones, checked and typed).

    Raises:
        ConfigError: a credential in the URL, an unknown type, a secret the type does not take
            or a variable that is not set.
        SourceError: no type recognises the URL.
    """
    if connector_type is not None and connector_type not in connector_types():
        raise ConfigError(
            f"unknown connector type {connector_type!r}; allowed values: "
            f"{', '.join(connector_types())}"
        )
    implied: dict[str, Any] = {}
    url: str | None = None
    if source is None:
        if not given.dsn:
            raise ConfigError("name a file, a folder or a URL to connect (or --dsn-env VAR)")
        name = connector_type or "litellm_postgres"
        reason, shown = f"--dsn-env {given.dsn}", f"${given.dsn}"
    else:
        _refuse_credentials(source)
        name, reason, url, implied = _recognise(source, connector_type)
        shown = redact_url(source)
    secrets = _secrets(name, given, url)
    cls = connector_class(name)
    checked = dict(cls.check_options(dict(options), "--option", from_text=True))
    typed = dict(cls.check_options({**implied, **checked}, "the URL"))
    return Located(name, reason, shown, url, secrets, typed)
