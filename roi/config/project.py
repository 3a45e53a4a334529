"""Project configuration: roi.toml + connectors/ + models/ + pools/ + reports/ (*.toml).

(roi.toml's sections are in `roi.config.settings`, model definitions in `roi.config.models`,
pools in `roi.config.pools`, report options in `roi.config.reports`; the typed option
machinery in `roi.config.typed`.)

Everything is read into frozen dataclasses through the typed builder: an unknown key or a value
of the wrong type is an error naming the file and the key. `ROI__SECTION__KEY` environment
variables override roi.toml (e.g. `ROI__PROJECT__WAREHOUSE=/data/roi.duckdb`). Secrets never
live in TOML: a connector names the environment variable that holds one
(`dsn_env = "LITELLM_DSN"`), and the value is read only when the connector runs. A connector's
type and `[options]` are checked where the project's connectors are resolved
(`roi.connectors.resolve`): configuration knows no connector type.
"""

from __future__ import annotations

import os
import tomllib
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from roi.config.models import ModelConfig, model_from_toml
from roi.config.pools import PoolConfig, check_pool_models, pool_from_toml
from roi.config.reports import ReportOptions, report_options
from roi.config.settings import (
    AttributionSettings,
    EngineSettings,
    FinanceSettings,
    PricingSettings,
    ProjectSettings,
    RiskSettings,
    read_settings,
)
from roi.config.typed import build
from roi.errors import ConfigError

PROJECT_FILE = "roi.toml"
SECRET_WORDS = ("password", "secret", "api_key", "apikey", "token", "dsn")
OnReject = Literal["fail", "skip"]
ReportKind = Literal["monthly_finance", "excel_pack"]


@dataclass(frozen=True)
class ConnectorConfig:
    """One connector instance (`connectors/<name>.toml`)."""

    name: str
    type: str
    file: Path
    path: str | None = None
    url: str | None = None
    enabled: bool = True
    on_reject: OnReject = "fail"
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    secret_env: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def secret(self, key: str) -> str:
        """Read the secret `key` from the environment variable the TOML names (`<key>_env`)."""
        var = self.secret_env.get(key)
        if var is None:
            raise ConfigError(
                f'{self.file}: connector needs `{key}_env = "ENV_VAR_NAME"` naming the '
                f"environment variable that holds its {key}"
            )
        value = os.environ.get(var)
        if not value:
            raise ConfigError(
                f"{self.file}: environment variable {var} (named by {key}_env) is not set; "
                f"export it before running roi"
            )
        return value


@dataclass(frozen=True)
class ReportConfig:
    """One report definition (`reports/<name>.toml`)."""

    name: str
    kind: ReportKind
    title: str
    file: Path
    options: ReportOptions = field(default_factory=ReportOptions)


@dataclass(frozen=True)
class ProjectConfig:
    """The whole project, as read from its folder."""

    root: Path
    project: ProjectSettings
    attribution: AttributionSettings
    finance: FinanceSettings
    connectors: tuple[ConnectorConfig, ...]
    models: tuple[ModelConfig, ...]
    reports: tuple[ReportConfig, ...]
    pools: tuple[PoolConfig, ...] = ()
    risk: RiskSettings = field(default_factory=RiskSettings)
    engine: EngineSettings = field(default_factory=EngineSettings)
    pricing: PricingSettings = field(default_factory=PricingSettings)

    @classmethod
    def blank(cls, root: Path, memory_limit: str = "4GB") -> ProjectConfig:
        """Default settings and no definitions: a warehouse used without a project."""
        return cls(
            root,
            ProjectSettings(memory_limit=memory_limit),
            AttributionSettings(),
            FinanceSettings(),
            (),
            (),
            (),
        )

    @property
    def warehouse_path(self) -> Path:
        """Absolute path of the warehouse file."""
        return _resolve(self.root, self.project.warehouse)

    @property
    def reports_out(self) -> Path:
        """Absolute path of the folder rendered reports go to."""
        return _resolve(self.root, self.project.reports_out)

    def connector(self, name: str) -> ConnectorConfig:
        """The connector called `name`, or a ConfigError listing the defined ones."""
        for c in self.connectors:
            if c.name == name:
                return c
        known = ", ".join(c.name for c in self.connectors) or "none"
        raise ConfigError(
            f"no connector named {name!r} in {self.root / 'connectors'}; defined: {known}"
        )


def redact_url(url: str) -> str:
    """A URL without user, password, query or fragment: safe to print and to store as lineage."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}"  # `sqlite:////abs/path` keeps its slashes


def _no_url_secret(path: Path, url: str) -> None:
    """A URL in a TOML file holds no password or token (files are shared and committed)."""
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qs(parts.query)
    secret_query = [k for k in query if any(word in k.lower() for word in SECRET_WORDS)]
    if parts.password is not None or secret_query:
        where = "a password" if parts.password is not None else f"a secret ({secret_query[0]})"
        raise ConfigError(
            f"{path}: the url {redact_url(url)} holds {where} in the file; remove it, export "
            'the credential as an environment variable and write `password_env = "VAR_NAME"` '
            '(a database password) or `token_env = "VAR_NAME"` (a bearer token) instead'
        )


def _resolve(root: Path, value: str) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else root / p


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}; fix the syntax at that line") from exc
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from exc


@dataclass(frozen=True)
class _ConnectorFile:
    """The top level of `connectors/<name>.toml` (besides `<secret>_env` keys)."""

    type: str
    path: str | None = None
    url: str | None = None
    enabled: bool = True
    on_reject: OnReject = "fail"
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class _ReportFile:
    """The top level of `reports/<name>.toml`."""

    kind: ReportKind
    title: str | None = None
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


def _secret_key(path: Path, key: str) -> None:
    if any(word in key.lower() for word in SECRET_WORDS):
        raise ConfigError(
            f"{path}: key {key!r} holds a secret in the file; remove it, export it as an "
            f'environment variable and write `{key.rsplit(".", 1)[-1]}_env = "VAR_NAME"` at '
            "the top level instead"
        )


def _connector(path: Path, data: dict[str, Any]) -> ConnectorConfig:
    secret_env: dict[str, str] = {}
    for key in [k for k in data if k.endswith("_env")]:
        value = data.pop(key)
        if not isinstance(value, str):
            raise ConfigError(f"{path}: key {key!r} must be the name of an environment variable")
        secret_env[key[: -len("_env")]] = value
    for key in data:
        _secret_key(path, key)
    top = build(_ConnectorFile, data, path)
    for key in top.options:
        _secret_key(path, f"options.{key}")
    if top.url is not None:
        _no_url_secret(path, top.url)
    return ConnectorConfig(
        name=path.stem,
        type=top.type,
        file=path,
        path=top.path,
        url=top.url,
        enabled=top.enabled,
        on_reject=top.on_reject,
        options=MappingProxyType(dict(top.options)),
        secret_env=MappingProxyType(secret_env),
    )


def _report(path: Path, data: dict[str, Any]) -> ReportConfig:
    top = build(_ReportFile, data, path)
    return ReportConfig(
        name=path.stem,
        kind=top.kind,
        title=top.title or path.stem,
        file=path,
        options=report_options(path, top.options),
    )


def load_project(root: Path, environ: Mapping[str, str] | None = None) -> ProjectConfig:
    """Read a project folder into a frozen `ProjectConfig`.

    Raises:
        ConfigError: naming the file, the key and the allowed values.
    """
    root = root.resolve()
    project_file = root / PROJECT_FILE
    if not project_file.exists():
        raise ConfigError(
            f"no {PROJECT_FILE} in {root}; point roi at a project with --project DIR, "
            f"or create one with `roi init {root}`"
        )
    settings = read_settings(
        project_file, _read_toml(project_file), os.environ if environ is None else environ
    )
    connectors = tuple(
        _connector(p, _read_toml(p)) for p in sorted((root / "connectors").glob("*.toml"))
    )
    models = tuple(
        model_from_toml(p, _read_toml(p)) for p in sorted((root / "models").glob("*.toml"))
    )
    seen: dict[str, Path] = {}
    for m in models:
        if m.model_id in seen:
            raise ConfigError(
                f"{m.file}: model_id {m.model_id!r} is already used by {seen[m.model_id]}; "
                "model ids must be unique"
            )
        seen[m.model_id] = m.file
    reports = tuple(_report(p, _read_toml(p)) for p in sorted((root / "reports").glob("*.toml")))
    pools = tuple(pool_from_toml(p, _read_toml(p)) for p in sorted((root / "pools").glob("*.toml")))
    check_pool_models(pools, set(seen))
    return ProjectConfig(
        root,
        settings.project,
        settings.attribution,
        settings.finance,
        connectors,
        models,
        reports,
        pools,
        settings.risk,
        settings.engine,
        settings.pricing,
    )
