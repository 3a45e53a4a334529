"""Project configuration: roi.toml, connectors/, models/ and reports/, as typed frozen objects.

`load_project` reads a project folder; every section is checked when it loads (unknown keys,
missing keys and values of the wrong type are errors naming the file and the key).
"""

from roi.config.models import (
    MODEL_ID,
    PRIORITY_RANGE,
    STAGES,
    ModelConfig,
    ModelSelectors,
    QualityConfig,
    RiskConfig,
)
from roi.config.pools import PoolClaims, PoolConfig, PoolUsage
from roi.config.project import (
    PROJECT_FILE,
    SECRET_WORDS,
    ConnectorConfig,
    ProjectConfig,
    ReportConfig,
    load_project,
    redact_url,
)
from roi.config.settings import (
    ENV_PREFIX,
    AttributionSettings,
    EngineSettings,
    FinanceSettings,
    PricingSettings,
    ProjectSettings,
    RiskSettings,
)

__all__ = [
    "ENV_PREFIX",
    "MODEL_ID",
    "PRIORITY_RANGE",
    "PROJECT_FILE",
    "SECRET_WORDS",
    "STAGES",
    "AttributionSettings",
    "ConnectorConfig",
    "EngineSettings",
    "FinanceSettings",
    "ModelConfig",
    "ModelSelectors",
    "PoolClaims",
    "PoolConfig",
    "PoolUsage",
    "PricingSettings",
    "ProjectConfig",
    "ProjectSettings",
    "QualityConfig",
    "ReportConfig",
    "RiskConfig",
    "RiskSettings",
    "load_project",
    "redact_url",
]
