"""The sample portfolio generator: realistic inputs for every connector, deterministic by seed.

`write_sample(out)` writes what the repository's `sample_data/` holds; `write_definitions(root)`
writes the project files (roi.toml, connectors/, models/, reports/) that load it. The same seed
always gives byte-identical files.
"""

from __future__ import annotations

import gzip
import io
import re
import shutil
import zipfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import polars as pl

from roi.progress import SILENT, Progress
from roi.sample import billing, business, focus_export, gpu, llm
from roi.sample.portfolio import REISSUED_MONTH, months, next_month
from roi.sample.project import project_files

DEFAULT_SEED = 20261125
# Folders of the sample data folder the generator owns (and replaces when it writes again).
OWNED = ("billing", "llm", "gpu", "kpis", "experiments", "metrics")


@dataclass(frozen=True)
class SampleSummary:
    """What `write_sample` wrote."""

    out: Path
    files: int
    bytes: int
    billing_lines: int


def gzip_bytes(data: bytes) -> bytes:
    """Gzip without a timestamp or file name, so equal input gives equal bytes."""
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as fh:
        fh.write(data)
    return buffer.getvalue()


def stable_zip(data: bytes, modified: str = "2026-11-05T09:00:00Z") -> bytes:
    """Rewrite an .xlsx with fixed member timestamps and modified date, so equal content gives
    equal bytes (openpyxl stamps the save time into docProps/core.xml)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>" + modified.encode() + rb"\g<2>",
                    body,
                )
            fixed = zipfile.ZipInfo(info.filename, date_time=(2026, 11, 5, 9, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            target.writestr(fixed, body)
    return out.getvalue()


def _csv(frame: pl.DataFrame) -> bytes:
    return frame.write_csv(null_value="").encode("utf-8")


def _billing_files(seed: int, logs: pl.DataFrame) -> tuple[dict[str, bytes], int]:
    lines = billing.billing_lines(seed, logs)
    files: dict[str, bytes] = {}
    aws = focus_export.focus_frame(lines, "AWS")
    azure = focus_export.focus_frame(lines, "Microsoft")
    for month in months():
        end = next_month(month)
        period = month.strftime("%Y-%m")
        delivered = f"{end.strftime('%Y%m')}02T041209Z"
        month_aws = aws.filter(pl.col("_month") == month).drop("_month")
        base = f"billing/aws/focus-export/data/BILLING_PERIOD={period}"
        deliveries = [(delivered, month_aws)]
        if month == REISSUED_MONTH:
            deliveries = [
                (delivered, focus_export.original_delivery(month_aws)),
                (f"{end.strftime('%Y%m')}12T183344Z", month_aws),
            ]
        for stamp, frame in deliveries:
            half = frame.height // 2  # AWS splits a delivery into numbered chunks
            for i, chunk in enumerate((frame.head(half), frame.tail(frame.height - half)), 1):
                name = f"{base}/{stamp}/focus-export-{i:05d}.csv.gz"
                files[name] = gzip_bytes(_csv(chunk))
        month_azure = azure.filter(pl.col("_month") == month).drop("_month")
        last_day = end - timedelta(days=1)
        folder = f"{month:%Y%m%d}-{last_day:%Y%m%d}"
        run = f"{end.strftime('%Y%m')}03T061502Z"
        name = f"billing/azure/focus-cost/{folder}/{run}/part_0_0001.csv.gz"
        files[name] = gzip_bytes(_csv(month_azure))
    return files, aws.height + azure.height


def sample_files(seed: int = DEFAULT_SEED) -> tuple[dict[str, bytes], int]:
    """Relative path → bytes of every sample data file, and the number of billing lines."""
    logs = llm.spend_logs(seed)
    files, lines = _billing_files(seed, logs)
    log_months = logs.with_columns(_m=pl.col("startTime").str.slice(0, 7))
    for period in sorted(log_months["_m"].unique().to_list()):
        month_logs = log_months.filter(pl.col("_m") == period).drop("_m")
        files[f"llm/litellm/LiteLLM_SpendLogs_{period}.csv.gz"] = gzip_bytes(
            llm.spend_log_csv(month_logs)
        )
    for name, body in gpu.dcgm_files(seed).items():
        files[f"gpu/dcgm/{name}.gz"] = gzip_bytes(body)
    files["gpu/nvidia-smi/i-0demand0001.csv"] = gpu.nvidia_smi_log(seed)
    files["kpis/business_kpis.csv"] = business.kpis_csv(seed)
    files["kpis/finance_unit_values.xlsx"] = stable_zip(business.finance_workbook(seed))
    files["experiments/ab_tests.csv"] = business.ab_tests_csv(seed)
    files["metrics/model_metrics.csv"] = business.model_metrics_csv(seed)
    files["README.md"] = SAMPLE_README.encode("utf-8")
    return files, lines


def write_sample(out: Path, seed: int = DEFAULT_SEED, progress: Progress = SILENT) -> SampleSummary:
    """Write the sample portfolio's input files under `out` (replacing the generator's folders)."""
    progress.info(f"generating the sample portfolio (seed {seed})")
    files, lines = sample_files(seed)
    for folder in OWNED:
        if (out / folder).exists():
            shutil.rmtree(out / folder)
    for name in progress.track(sorted(files), "writing sample files"):
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(files[name])
    size = sum(len(b) for b in files.values())
    progress.info(
        f"wrote {len(files)} files ({size / 1e6:.1f} MB, {lines:,} billing lines) to {out}"
    )
    return SampleSummary(out, len(files), size, lines)


def write_definitions(root: Path, overwrite: bool = False) -> list[Path]:
    """Write roi.toml, connectors/, models/ and reports/ of the sample project under `root`.

    Existing files are kept unless `overwrite`; returns the files written.
    """
    written = []
    for name, text in project_files().items():
        path = root / name
        if path.exists() and not overwrite:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


SAMPLE_README = """\
# Sample data: the Northwind ML portfolio

Generated by `roi sample` (deterministic: the same seed writes the same bytes). Everything here
is synthetic; formats follow what the providers write.

Folders, their format and the connector type that reads them:

- `billing/aws/focus-export/data/BILLING_PERIOD=YYYY-MM/<delivery>/`: AWS Data Exports,
  FOCUS 1.2 with AWS columns, gzip CSV in numbered chunks; 2025-06 was re-issued, so it has
  two deliveries (`focus`).
- `billing/azure/focus-cost/<start>-<end>/<run>/`: Azure Cost Management FOCUS 1.2 export,
  gzip CSV (`focus`).
- `llm/litellm/`: `LiteLLM_SpendLogs` dumped with `\\copy ... CSV HEADER`, one file a month
  (`litellm_spend_logs`).
- `gpu/dcgm/`: Prometheus `query_range` JSON of dcgm-exporter metrics, gzip, one file per metric
  and month (`dcgm_prometheus`).
- `gpu/nvidia-smi/`: an `nvidia-smi --query-gpu=... --format=csv -l 900` log, one file per host
  (`nvidia_smi`).
- `kpis/business_kpis.csv`: monthly KPIs in long format (`kpi_csv`).
- `kpis/finance_unit_values.xlsx`: FP&A's workbook, one column per month (`kpi_excel`).
- `experiments/ab_tests.csv`: holdout and A/B results per arm and month (`ab_test_csv`).
- `metrics/model_metrics.csv`: weekly model quality metrics (`model_metrics_csv`).

What the bills contain: twelve models on AWS and Azure over 24 months (2024-11 to 2026-10); a
shared EKS GPU cluster under a compute savings plan (with unused commitment on the days a node
was drained); an Azure reservation bought up front and amortized; promotional credits; tax; a
correction to an invoiced month; shared Azure OpenAI and platform costs; and tags that are
missing, misspelt (`ml_model`, `ML-Model`) or stale (`fraud-detector`, `recsys`).
"""
