"""Project definitions of the sample: roi.toml, connectors/, models/, pools/ and reports/ as
TOML text.

`roi init` writes these; the repository root holds the same files, and a test keeps the two
identical. The settings files are in `project_settings`, the models' files in `project_models`.
"""

from __future__ import annotations

from roi.sample.portfolio import SAMPLE_MODELS
from roi.sample.project_models import model_toml
from roi.sample.project_settings import CONNECTORS, POOLS, REPORTS, ROI_TOML


def project_files() -> dict[str, str]:
    """Relative path → text of every definition file of the sample project."""
    files = {"roi.toml": ROI_TOML}
    files.update({f"connectors/{name}.toml": text for name, text in CONNECTORS.items()})
    files.update({f"models/{m.model_id}.toml": model_toml(m) for m in SAMPLE_MODELS})
    files.update({f"reports/{name}.toml": text for name, text in REPORTS.items()})
    files.update({f"pools/{name}.toml": text for name, text in POOLS.items()})
    return files
