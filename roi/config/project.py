"""Project configuration: roi.toml + connectors/ + models/ + pools/ + reports/ (*.toml).

(Model definitions are in `roi.config.models`; the typed option machinery in `roi.config.typed`.)

Everything is read into frozen dataclasses. `ROI__SECTION__KEY` environment variables override
roi.toml (e.g. `ROI__PROJECT__WAREHOUSE=/data/roi.duckdb`). Secrets never live in TOML: a
connector names the environment variable that holds one (`dsn_env = "LITELLM_DSN"`), and the
value is read only when the connector runs.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from roi.config.models import ModelConfig, model_from_toml
from roi.config.pools import PoolConfig, check_pool_models, pool_from_toml
from roi.config.reports import ReportOptions, report_options
from roi.config.typed import build, check
from roi.errors import ConfigError
from roi.warehouse import MEMORY_LIMIT

PROJECT_FILE = "roi.toml"
ENV_PREFIX = "ROI__"
MONTH_BASES = ("billing_period", "charge_period")
ON_REJECT = ("fail", "skip")
SECRET_WORDS = ("password", "secret", "api_key", "apikey", "token", "dsn")


@dataclass(frozen=True)
class ProjectSettings:
    """The `[project]` section."""

    name: str = "roi project"
    currency: str = "USD"
    warehouse: str = "roi.duckdb"
    reports_out: str = "reports/out"
    memory_limit: str = "4GB"  # DuckDB's memory cap; larger work spills to disk


@dataclass(frozen=True)
class AttributionSettings:
    """The `[attribution]` section."""

    month_basis: str = "billing_period"
    # Tags that mark a line as model training (expensed, or amortized per the model's
    # `training`), e.g. { "ml-stage" = ["training"] }.
    training_tags: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    # Gateway provider → billing provider, beyond roi's own list (roi.vocabulary),
    # e.g. { openai = "OpenAI" } once OpenAI's invoices are loaded as billing lines.
    usage_billed_by: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class FinanceSettings:
    """The `[finance]` section."""

    discount_rate: float = 0.10
    # Months from a model's first month that its NPV and IRR cover: the months to date, then
    # the latest net (mean of the last three months) held flat to the end of the horizon.
    horizon_months: int = 36


_share_open = check(lambda v: 0 < v < 1, "a level between 0 and 1, e.g. 0.95")
_correlation = check(lambda v: 0 <= v < 1, "a correlation from 0 to below 1, e.g. 0.3")


@dataclass(frozen=True)
class RiskSettings:
    """The `[risk]` section: what the failure-exposure scenarios need about the company."""

    # Worldwide annual turnover in the project currency, for EU AI Act fines (Article 99).
    annual_turnover: float | None = field(
        default=None, metadata=check(lambda v: v >= 0, "a number of at least 0")
    )
    sme: bool = False  # SMEs and start-ups: the lower of the fixed amount and the share
    eur_rate: float = field(  # project currency per EUR (the Act's amounts are in EUR)
        default=1.0, metadata=check(lambda v: v > 0, "a number above 0, e.g. 1.08")
    )
    correlation: float = field(default=0.0, metadata=_correlation)  # every two models
    shared_cause_correlation: float = field(default=0.6, metadata=_correlation)
    draws: int = field(
        default=100_000,
        metadata=check(lambda v: 1_000 <= v <= 10_000_000, "1,000 to 10,000,000 draws"),
    )
    level: float = field(default=0.95, metadata=_share_open)  # VaR and expected shortfall


@dataclass(frozen=True)
class ConnectorConfig:
    """One connector instance (`connectors/<name>.toml`)."""

    name: str
    type: str
    file: Path
    path: str | None = None
    url: str | None = None
    enabled: bool = True
    on_reject: str = "fail"
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
    kind: str
    title: str
    file: Path
    options: ReportOptions = field(default_factory=ReportOptions)


REPORT_KINDS = ("monthly_finance", "excel_pack")


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
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


def _no_url_secret(path: Path, url: str) -> None:
    """A URL in a TOML file holds no password or token (files are shared and committed)."""
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qs(parts.query)
    secret_query = [k for k in query if any(word in k.lower() for word in SECRET_WORDS)]
    if parts.password is not None or secret_query:
        where = "a password" if parts.password is not None else f"a secret ({secret_query[0]})"
        raise ConfigError(
            f"{path}: the url {redact_url(url)} holds {where} in the file; remove it, export "
            'the credential as an environment variable and write `token_env = "VAR_NAME"` '
            "(a bearer token) instead"
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


def _check_keys(path: Path, where: str, data: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    for key in data:
        if key not in allowed:
            raise ConfigError(
                f"{path}: unknown key {where}{key!r}; allowed keys: {', '.join(allowed)}"
            )


def _typed(path: Path | str, key: str, value: Any, kind: type | tuple[type, ...]) -> Any:
    if isinstance(value, bool) and kind in (int, float, (int, float)):
        ok = False
    else:
        ok = isinstance(value, kind)
    if not ok:
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ConfigError(f"{path}: key {key!r} must be {names}, got {value!r}")
    return value


def _choice(path: Path | str, key: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ConfigError(
            f"{path}: key {key!r} = {value!r} is not allowed; allowed values: {', '.join(allowed)}"
        )
    return str(value)


# roi.toml sections and their keys (environment overrides are checked against these).
PROJECT_KEYS: dict[str, tuple[str, ...]] = {
    "project": ("name", "currency", "warehouse", "reports_out", "memory_limit"),
    "attribution": ("month_basis", "training_tags", "usage_billed_by"),
    "finance": ("discount_rate", "horizon_months"),
    "risk": tuple(f.name for f in dataclasses.fields(RiskSettings)),
}


def _tag_table(where: Path | str, value: Any) -> Mapping[str, tuple[str, ...]]:
    """A `{ key = [values] }` tag selector (a single value may be written without a list)."""
    if not isinstance(value, Mapping) or not all(
        isinstance(v, str) or (isinstance(v, list) and all(isinstance(x, str) for x in v))
        for v in value.values()
    ):
        raise ConfigError(
            f"{where}: key 'attribution.training_tags' must be a table of tag values, e.g. "
            '{ "ml-stage" = ["training"] }'
        )
    return MappingProxyType(
        {str(k).strip().lower(): (v,) if isinstance(v, str) else tuple(v) for k, v in value.items()}
    )


def _billed_by(where: Path | str, value: Any) -> Mapping[str, str]:
    """`{ gateway provider = "billing provider" }`, e.g. { openai = "OpenAI" }."""
    if value is None:
        return MappingProxyType({})
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in value.items()
    ):
        raise ConfigError(
            f"{where}: key 'attribution.usage_billed_by' must be a table of gateway provider "
            'to billing provider names, e.g. { openai = "OpenAI" }'
        )
    return MappingProxyType({str(k): str(v) for k, v in value.items()})


def _env_overrides(
    data: dict[str, Any], environ: Mapping[str, str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """roi.toml data with ROI__SECTION__KEY overrides applied, and which variable set which key."""
    sections: dict[str, Any] = {k: dict(v) if isinstance(v, dict) else v for k, v in data.items()}
    origins: dict[str, str] = {}
    for var, raw in sorted(environ.items()):
        if not var.startswith(ENV_PREFIX):
            continue
        parts = var[len(ENV_PREFIX) :].lower().split("__")
        if len(parts) != 2 or not all(parts):
            raise ConfigError(
                f"environment variable {var}: expected ROI__SECTION__KEY, "
                "e.g. ROI__PROJECT__WAREHOUSE"
            )
        section, key = parts
        if key not in PROJECT_KEYS.get(section, ()):
            allowed = ", ".join(
                f"ROI__{s.upper()}__{k.upper()}" for s, keys in PROJECT_KEYS.items() for k in keys
            )
            raise ConfigError(
                f"environment variable {var} overrides no roi.toml key; allowed: {allowed}"
            )
        try:
            value: Any = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw
        sections.setdefault(section, {})[key] = value
        origins[f"{section}.{key}"] = f"environment variable {var}"
    return sections, origins


def _project_sections(
    path: Path, data: dict[str, Any], origins: Mapping[str, str]
) -> tuple[ProjectSettings, AttributionSettings, FinanceSettings]:
    def at(key: str) -> Path | str:
        return origins.get(key, path)

    _check_keys(path, "", data, tuple(PROJECT_KEYS))
    proj = data.get("project", {})
    _check_keys(path, "[project] ", proj, PROJECT_KEYS["project"])
    attr = data.get("attribution", {})
    _check_keys(path, "[attribution] ", attr, PROJECT_KEYS["attribution"])
    fin = data.get("finance", {})
    _check_keys(path, "[finance] ", fin, PROJECT_KEYS["finance"])
    project = ProjectSettings(
        name=_typed(
            at("project.name"), "project.name", proj.get("name", ProjectSettings.name), str
        ),
        currency=_typed(
            at("project.currency"), "project.currency", proj.get("currency", "USD"), str
        ),
        warehouse=_typed(
            at("project.warehouse"), "project.warehouse", proj.get("warehouse", "roi.duckdb"), str
        ),
        reports_out=_typed(
            at("project.reports_out"),
            "project.reports_out",
            proj.get("reports_out", "reports/out"),
            str,
        ),
        memory_limit=_typed(
            at("project.memory_limit"), "project.memory_limit", proj.get("memory_limit", "4GB"), str
        ),
    )
    if not MEMORY_LIMIT.fullmatch(project.memory_limit):
        raise ConfigError(
            f"{at('project.memory_limit')}: key 'project.memory_limit' = "
            f'{project.memory_limit!r} is not a size; write e.g. "4GB" or "512MB"'
        )
    attribution = AttributionSettings(
        month_basis=_choice(
            at("attribution.month_basis"),
            "attribution.month_basis",
            attr.get("month_basis", "billing_period"),
            MONTH_BASES,
        ),
        training_tags=_tag_table(at("attribution.training_tags"), attr.get("training_tags", {})),
        usage_billed_by=_billed_by(at("attribution.usage_billed_by"), attr.get("usage_billed_by")),
    )
    rate = _typed(
        at("finance.discount_rate"),
        "finance.discount_rate",
        fin.get("discount_rate", 0.10),
        (int, float),
    )
    if not 0 <= rate < 1:
        raise ConfigError(
            f"{at('finance.discount_rate')}: key 'finance.discount_rate' = {rate} must be in "
            "[0, 1), e.g. 0.10"
        )
    horizon = _typed(
        at("finance.horizon_months"),
        "finance.horizon_months",
        fin.get("horizon_months", FinanceSettings.horizon_months),
        int,
    )
    if isinstance(horizon, bool) or not 1 <= horizon <= 600:
        raise ConfigError(
            f"{at('finance.horizon_months')}: key 'finance.horizon_months' = {horizon} must be "
            "a whole number of months from 1 to 600, e.g. 36"
        )
    return (
        project,
        attribution,
        FinanceSettings(discount_rate=float(rate), horizon_months=int(horizon)),
    )


def _connector(path: Path, data: dict[str, Any]) -> ConnectorConfig:
    # The type and its options are checked where the project's connectors are resolved
    # (`roi.connectors.resolve`): configuration knows no connector type.
    if "type" not in data:
        raise ConfigError(f"{path}: missing key 'type' (the connector type, e.g. \"focus\")")
    ctype = _typed(path, "type", data["type"], str)
    allowed = ("type", "path", "url", "enabled", "on_reject", "options")
    secret_env: dict[str, str] = {}
    for key, value in data.items():
        if key.endswith("_env"):
            secret_env[key[: -len("_env")]] = _typed(path, key, value, str)
            continue
        if any(word in key.lower() for word in SECRET_WORDS):
            raise ConfigError(
                f"{path}: key {key!r} holds a secret in the file; remove it, export it as an "
                f'environment variable and write `{key}_env = "VAR_NAME"` instead'
            )
        if key not in allowed:
            raise ConfigError(
                f"{path}: unknown key {key!r}; allowed keys: {', '.join(allowed)}, <secret>_env"
            )
    options = _typed(path, "options", data.get("options", {}), dict)
    for key in options:
        if any(word in key.lower() for word in SECRET_WORDS):
            raise ConfigError(
                f"{path}: key 'options.{key}' holds a secret in the file; remove it, export it "
                f'as an environment variable and write `{key}_env = "VAR_NAME"` at the top level'
            )
    if "url" in data:
        _no_url_secret(path, _typed(path, "url", data["url"], str))
    return ConnectorConfig(
        name=path.stem,
        type=ctype,
        file=path,
        path=_typed(path, "path", data["path"], str) if "path" in data else None,
        url=_typed(path, "url", data["url"], str) if "url" in data else None,
        enabled=_typed(path, "enabled", data.get("enabled", True), bool),
        on_reject=_choice(path, "on_reject", data.get("on_reject", "fail"), ON_REJECT),
        options=MappingProxyType(options),
        secret_env=MappingProxyType(secret_env),
    )


def _report(path: Path, data: dict[str, Any]) -> ReportConfig:
    _check_keys(path, "", data, ("kind", "title", "options"))
    return ReportConfig(
        name=path.stem,
        kind=_choice(path, "kind", data.get("kind"), REPORT_KINDS),
        title=_typed(path, "title", data.get("title", path.stem), str),
        file=path,
        options=report_options(path, _typed(path, "options", data.get("options", {}), dict)),
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
    data, origins = _env_overrides(
        _read_toml(project_file), os.environ if environ is None else environ
    )
    project, attribution, finance = _project_sections(project_file, data, origins)
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
    for report in reports:
        named = set(report.options.models) | (set(report.options.budgets) - {"total"})
        if named - set(seen):
            raise ConfigError(
                f"{report.file}: options name unknown model(s) "
                f"{', '.join(sorted(named - set(seen)))}; known models: {', '.join(sorted(seen))}"
            )
    risk_data = data.get("risk", {})
    if not isinstance(risk_data, Mapping):
        raise ConfigError(f"{project_file}: [risk] must be a table")
    where = next((v for k, v in origins.items() if k.startswith("risk.")), project_file)
    risk = build(RiskSettings, risk_data, where, "risk.")
    for m in models:
        for risk_mode in m.risks:
            unknown = set(risk_mode.correlated_with) - set(seen)
            if unknown:
                raise ConfigError(
                    f"{m.file}: [[risks]] {risk_mode.name!r}: correlated_with names no model: "
                    f"{', '.join(sorted(unknown))}; known models: {', '.join(sorted(seen))}"
                )
    return ProjectConfig(
        root, project, attribution, finance, connectors, models, reports, pools, risk
    )
