"""Malformed input, across every connector type: exit 1, one `Error:` line naming the file (and
row and field where there is one), no traceback, and every warehouse table exactly as it was.

The README's reliability section lists these cases; `test_readme_lists_every_case` keeps the two
in step.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as default
from pathlib import Path

import pytest
from click.testing import CliRunner

from roi.cli import cli
from roi.config import ProjectConfig
from roi.warehouse.cost_store import data_dir
from tests.conftest import REPO
from tests.helpers import files_digest, snapshot

pytestmark = pytest.mark.faults

FOCUS_HEADER = (
    "BillingAccountId,SubAccountId,ProviderName,BillingPeriodStart,BillingPeriodEnd,"
    "ChargePeriodStart,ChargePeriodEnd,ChargeCategory,BilledCost,EffectiveCost,"
    "BillingCurrency,Tags"
)
FOCUS_LINE = (
    "A1,S1,AWS,2026-10-01T00:00:00Z,2026-11-01T00:00:00Z,2026-10-03T00:00:00Z,"
    "2026-10-04T00:00:00Z,Usage,12.50,12.50,USD,"
)
SPEND_HEADER = (
    "request_id,startTime,model,spend,prompt_tokens,completion_tokens,metadata,request_tags"
)
SPEND_LINE = 'r1,2026-10-01 08:00:00,gpt-4o,0.01,100,20,{},"[""feature:search""]"'
SMI_HEADER = "timestamp, index, uuid, name, utilization.gpu [%], memory.used [MiB]"
SMI_LINE = "2026/10/01 00:00:00.000, 0, GPU-1, NVIDIA A10G, 37 %, 1000 MiB"
KPI_HEADER = "kpi,period_start,period_end,model_id,segment,value,unit"
KPI_LINE = "tickets,2026-10-01,2026-11-01,support-assistant,all,120,count"
AB_HEADER = "experiment_id,model_id,kpi,period_start,period_end,variant,units,mean,std_dev,unit"
AB_LINE = "exp-1,recommendations,margin,2026-10-01,2026-11-01,treatment,5000,1.2,0.4,USD"
METRICS_HEADER = "model_id,metric,ts,value,model_version"
METRICS_LINE = "fraud-detection,auc,2026-10-01T00:00:00Z,0.91,v7"
EVENT: dict[str, object] = {
    "request_id": "req-1",
    "ts": "2026-10-01T08:00:00Z",
    "provider": "openai",
    "model": "gpt-4o",
    "input_tokens": 1200,
    "output_tokens": 300,
}
OBSERVATION: dict[str, object] = {
    "id": "obs-1",
    "type": "GENERATION",
    "start_time": "2026-10-01 08:00:00.000",
    "provided_model_name": "gpt-4o",
    "usage_details": {"input": 1000, "input_cached_tokens": 200, "output": 300},
    "cost_details": {},
}


def _jsonl(*objects: dict[str, object], raw: str = "") -> bytes:
    return ("".join(json.dumps(o) + "\n" for o in objects) + raw).encode()


def _replace(line: str, index: int, value: str) -> str:
    cells = line.split(",")
    cells[index] = value
    return ",".join(cells)


def _csv(header: str, *lines: str, end: str = "\n") -> bytes:
    return ("\n".join([header, *lines]) + end).encode()


def _dcgm(values: list[list[object]], status: str = "success", kind: str = "matrix") -> bytes:
    body = {
        "status": status,
        "data": {
            "resultType": kind,
            "result": [
                {
                    "metric": {
                        "__name__": "DCGM_FI_DEV_GPU_UTIL",
                        "UUID": "GPU-1",
                        "Hostname": "node-1",
                        "pod": "p-1",
                    },
                    "values": values,
                }
            ],
        },
    }
    return json.dumps(body).encode()


def _parquet(columns: dict[str, list[object]]) -> bytes:
    import io

    import polars as pl

    out = io.BytesIO()
    pl.DataFrame(columns).write_parquet(out)
    return out.getvalue()


def _focus_parquet(**override: list[object]) -> bytes:
    names = FOCUS_HEADER.split(",")
    values = FOCUS_LINE.split(",")
    columns: dict[str, list[object]] = {n: [v or None] for n, v in zip(names, values, strict=True)}
    columns.update(override)
    return _parquet(columns)


def _workbook(rows: list[list[object]]) -> bytes:
    import io

    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@dataclass(frozen=True)
class Case:
    """One malformed input and what its error must name."""

    id: str
    kind: str
    name: str
    content: bytes | Callable[[Path], object]  # the bytes, or a function that writes the file
    row: int | None = None
    field: str | None = None
    options: dict[str, str] = default(default_factory=dict)
    names_file: bool = True  # False: the mistake is in an option, not in the file


CUR_HEADER = (
    "identity/LineItemId,bill/PayerAccountId,bill/BillingPeriodStartDate,"
    "bill/BillingPeriodEndDate,lineItem/LineItemType,lineItem/UsageStartDate,"
    "lineItem/UsageEndDate,lineItem/CurrencyCode,lineItem/UnblendedCost"
)
CUR_LINE = (
    "l1,111122223333,2026-10-01T00:00:00Z,2026-11-01T00:00:00Z,Usage,"
    "2026-10-01T00:00:00Z,2026-10-01T01:00:00Z,USD,1.25"
)
AZURE_HEADER = (
    "BillingAccountId,BillingPeriodStartDate,BillingPeriodEndDate,Date,MeterCategory,"
    "ChargeType,PricingModel,Cost,BillingCurrency"
)
AZURE_LINE = "8611537,09/01/2023,09/30/2023,09/21/2023,Virtual Machines,Usage,OnDemand,3.25,USD"
GCP_HEADER = (
    "billing_account_id,invoice.month,usage_start_time,usage_end_time,cost,currency,credits"
)
GCP_LINE = "01ABCD,202610,2026-10-01 00:00:00+00:00,2026-10-01 01:00:00+00:00,1.5,USD,[]"
OCI_HEADER = (
    "lineItem/referenceNo,lineItem/tenantId,lineItem/intervalUsageStart,"
    "lineItem/intervalUsageEnd,cost/myCost,cost/currencyCode"
)
OCI_LINE = "r1,ocid1.tenancy.oc1..t,2026-10-02T10:00Z,2026-10-02T11:00:00Z,1.5,USD"


def _cur_missing_part(path: Path) -> None:
    period = path / "20261001-20261101"
    period.mkdir(parents=True)
    (period / "report-1.csv").write_bytes(_csv(CUR_HEADER, CUR_LINE))
    manifest = {
        "reportKeys": ["r/20261001-20261101/report-1.csv", "r/20261001-20261101/report-2.csv"]
    }
    (period / "report-Manifest.json").write_text(json.dumps(manifest))


def _symlink_loop(path: Path) -> None:
    path.symlink_to(path)


def _folder_without_data(path: Path) -> None:
    path.mkdir()
    (path / "notes.txt").write_text("nothing to load here")


def _link_to_nothing(path: Path) -> None:
    path.mkdir()
    (path / "part0.csv").write_bytes(_csv(FOCUS_HEADER, FOCUS_LINE))
    (path / "part1.csv").symlink_to(path / "gone.csv")


def _dcgm_series(*series: tuple[dict[str, str], list[list[object]]]) -> bytes:
    result = [{"metric": labels, "values": values} for labels, values in series]
    body = {"status": "success", "data": {"resultType": "matrix", "result": result}}
    return json.dumps(body).encode()


GPU_LABELS = {"__name__": "DCGM_FI_DEV_GPU_UTIL", "UUID": "GPU-1", "Hostname": "n", "pod": "p"}


def _workbook_cells(rows: list[list[object]], merge: str | None = None) -> bytes:
    import io

    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for row in rows:
        ws.append(row)
    if merge:
        ws.merge_cells(merge)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _usage_page(**result: object) -> bytes:
    """An OpenAI Usage API page with one completions result (fields overridden)."""
    base = {
        "object": "organization.usage.completions.result",
        "input_tokens": 1000,
        "input_cached_tokens": 200,
        "output_tokens": 300,
        "num_model_requests": 4,
        "project_id": "proj_a",
        "model": "gpt-4o-2024-08-06",
        "batch": False,
    }
    bucket = {"object": "bucket", "start_time": 1790812800, "end_time": 1790899200}
    page = {"object": "page", "data": [{**bucket, "results": [{**base, **result}]}]}
    return json.dumps({**page, "has_more": False, "next_page": None}).encode()


def _cost_page(**amount: object) -> bytes:
    result = {
        "object": "organization.costs.result",
        "amount": {"value": 1.25, "currency": "usd", **amount},
        "line_item": "gpt-4o-2024-08-06, input",
        "project_id": "proj_a",
    }
    bucket = {"object": "bucket", "start_time": 1790812800, "end_time": 1790899200}
    return json.dumps({"object": "page", "data": [{**bucket, "results": [result]}]}).encode()


def _anthropic_page(**result: object) -> bytes:
    bucket = {"starting_at": "2026-10-01T00:00:00Z", "ending_at": "2026-10-02T00:00:00Z"}
    return json.dumps({"data": [{**bucket, "results": [result]}], "has_more": False}).encode()


OCT = "2026-10-01"
CASES = [
    # --- focus: CSV structure -------------------------------------------------------------
    Case(
        "cut off mid-row",
        "focus",
        "cut.csv",
        _csv(FOCUS_HEADER, FOCUS_LINE, FOCUS_LINE[:-12], end=""),
        row=3,
    ),
    Case(
        "short row",
        "focus",
        "short.csv",
        _csv(FOCUS_HEADER, FOCUS_LINE, FOCUS_LINE.rsplit(",", 3)[0], FOCUS_LINE),
        row=3,
    ),
    Case("long row", "focus", "long.csv", _csv(FOCUS_HEADER, FOCUS_LINE + ",extra"), row=2),
    Case(
        "column named twice",
        "focus",
        "twice.csv",
        _csv(FOCUS_HEADER + ",BilledCost", FOCUS_LINE + ",1"),
    ),
    Case(
        "missing BilledCost",
        "focus",
        "nobilled.csv",
        _csv(FOCUS_HEADER.replace("BilledCost,", ""), FOCUS_LINE.replace("12.50,", "", 1)),
    ),
    Case("empty file", "focus", "empty.csv", b""),
    Case("header only", "focus", "header.csv", _csv(FOCUS_HEADER)),
    Case(
        "latin-1 text",
        "focus",
        "latin1.csv",
        _csv(FOCUS_HEADER, _replace(FOCUS_LINE, 1, "Caf\xe9")).replace(b"Caf\xc3\xa9", b"Caf\xe9"),
        row=2,
    ),
    Case(
        "UTF-16 text",
        "focus",
        "utf16.csv",
        ("\ufeff" + FOCUS_HEADER + "\n" + FOCUS_LINE + "\n").encode("utf-16-le"),
    ),
    Case("binary garbage", "focus", "garbage.csv", bytes(range(256)) * 4),
    # --- focus: values --------------------------------------------------------------------
    Case(
        "letter in an amount",
        "focus",
        "letter.csv",
        _csv(FOCUS_HEADER, _replace(FOCUS_LINE, 8, "12O.5")),
        row=2,
        field="billed_cost",
    ),
    Case(
        "NaN amount",
        "focus",
        "nan.csv",
        _csv(FOCUS_HEADER, _replace(FOCUS_LINE, 9, "NaN")),
        row=2,
        field="effective_cost",
    ),
    Case(
        "infinite amount",
        "focus",
        "inf.csv",
        _csv(FOCUS_HEADER, _replace(FOCUS_LINE, 8, "inf")),
        row=2,
        field="billed_cost",
    ),
    Case(
        "amount too large",
        "focus",
        "huge.csv",
        _csv(FOCUS_HEADER, _replace(FOCUS_LINE, 8, "1e40")),
        row=2,
        field="billed_cost",
    ),
    Case(
        "impossible date",
        "focus",
        "date.csv",
        _csv(FOCUS_HEADER, _replace(FOCUS_LINE, 5, "2026-10-32T00:00:00Z")),
        row=2,
        field="charge_period_start",
    ),
    Case(
        "period ends before it starts",
        "focus",
        "order.csv",
        _csv(FOCUS_HEADER, _replace(FOCUS_LINE, 4, "2026-09-01T00:00:00Z")),
        row=2,
        field="billing_period_end",
    ),
    Case(
        "unknown charge category",
        "focus",
        "category.csv",
        _csv(FOCUS_HEADER, _replace(FOCUS_LINE, 7, "Usage2")),
        row=2,
        field="charge_category",
    ),
    Case(
        "currency that is not a code",
        "focus",
        "currency.csv",
        _csv(FOCUS_HEADER, _replace(FOCUS_LINE, 10, "Dollars")),
        row=2,
        field="billing_currency",
    ),
    Case(
        "missing billing account",
        "focus",
        "account.csv",
        _csv(FOCUS_HEADER, _replace(FOCUS_LINE, 0, "")),
        row=2,
        field="billing_account_id",
    ),
    Case(
        "tags that are not JSON",
        "focus",
        "tags.csv",
        _csv(FOCUS_HEADER, FOCUS_LINE + '"{ml-model: x"'),
        row=2,
        field="tags_raw",
    ),
    Case(
        "NUL byte in a name",
        "focus",
        "nul.csv",
        _csv(FOCUS_HEADER, _replace(FOCUS_LINE, 1, "S\x001")),
        row=2,
        field="sub_account_id",
    ),
    # --- focus: compressed and columnar files ---------------------------------------------
    Case(
        "corrupt gzip",
        "focus",
        "corrupt.csv.gz",
        lambda p: p.write_bytes(
            gzip.compress(_csv(FOCUS_HEADER, FOCUS_LINE) * 20)[:30] + b"\x00" * 64
        ),
    ),
    Case(
        "gzip cut off",
        "focus",
        "cut.csv.gz",
        lambda p: p.write_bytes(gzip.compress(_csv(FOCUS_HEADER, *[FOCUS_LINE] * 200))[:-40]),
    ),
    Case(".gz that is plain text", "focus", "plain.csv.gz", _csv(FOCUS_HEADER, FOCUS_LINE)),
    Case("corrupt Parquet", "focus", "corrupt.parquet", b"PAR1" + bytes(range(200)) + b"PAR1"),
    Case(
        "Parquet cut off", "focus", "cut.parquet", lambda p: p.write_bytes(_focus_parquet()[:-30])
    ),
    Case(
        "Parquet with text in an amount",
        "focus",
        "text.parquet",
        _focus_parquet(BilledCost=["abc"]),
        row=1,
        field="billed_cost",
    ),
    Case(
        "Parquet with no rows",
        "focus",
        "norows.parquet",
        _parquet({n: [] for n in FOCUS_HEADER.split(",")}),
    ),
    # --- paths ----------------------------------------------------------------------------
    Case("symbolic link loop", "focus", "loop.csv", _symlink_loop),
    Case("link to nothing in a folder", "focus", "linked", _link_to_nothing),
    Case(
        "lines ending in a carriage return alone",
        "focus",
        "mac.csv",
        _csv(FOCUS_HEADER, FOCUS_LINE).replace(b"\n", b"\r"),
        row=1,
    ),
    Case(
        "tag keys that differ only in case",
        "focus",
        "tagcase.csv",
        _csv(FOCUS_HEADER, FOCUS_LINE + '"{""Team"": ""risk"", ""team"": ""fraud""}"'),
        row=2,
        field="tags_raw",
    ),
    Case(
        "fractional GPU count",
        "focus",
        "gpus.csv",
        _csv(
            FOCUS_HEADER + ",SkuPriceDetails",
            FOCUS_LINE + ',"{""GpuCount"": 2.7}"',
        ),
        row=2,
        field="SkuPriceDetails",
    ),
    Case(
        "GPU count that is not a number",
        "focus",
        "xgpus.csv",
        _csv(FOCUS_HEADER + ",x_GpuCount", FOCUS_LINE + ",abc"),
        row=2,
        field="x_GpuCount",
    ),
    Case("missing path", "focus", "nowhere.csv", lambda p: None),
    Case("folder without data files", "focus", "folder", _folder_without_data),
    # --- litellm_spend_logs ---------------------------------------------------------------
    Case(
        "spend log without prompt_tokens",
        "litellm_spend_logs",
        "noprompt.csv",
        _csv(SPEND_HEADER.replace("prompt_tokens,", ""), SPEND_LINE.replace("100,", "", 1)),
    ),
    Case(
        "fractional token count",
        "litellm_spend_logs",
        "fraction.csv",
        _csv(SPEND_HEADER, SPEND_LINE.replace(",100,", ",100.7,")),
        row=2,
        field="input_tokens",
    ),
    Case(
        "negative token count",
        "litellm_spend_logs",
        "negative.csv",
        _csv(SPEND_HEADER, SPEND_LINE.replace(",20,", ",-20,")),
        row=2,
        field="output_tokens",
    ),
    Case(
        "metadata that is not JSON",
        "litellm_spend_logs",
        "metadata.csv",
        _csv(SPEND_HEADER, SPEND_LINE.replace(",{},", ",{'model': 1},")),
        row=2,
        field="metadata",
    ),
    Case(
        "request tags that are not JSON",
        "litellm_spend_logs",
        "reqtags.csv",
        _csv(SPEND_HEADER, SPEND_LINE.replace('"[""feature:search""]"', "feature:search")),
        row=2,
        field="request_tags",
    ),
    Case(
        "request time that is not a time",
        "litellm_spend_logs",
        "time.csv",
        _csv(SPEND_HEADER, SPEND_LINE.replace("2026-10-01 08:00:00", "yesterday")),
        row=2,
        field="ts",
    ),
    Case(
        "request id twice with different costs",
        "litellm_spend_logs",
        "twice.csv",
        _csv(SPEND_HEADER, SPEND_LINE.replace(",0.01,", ",5.00,"), SPEND_LINE),
        row=2,
        field="request_id",
    ),
    # --- usage_events ---------------------------------------------------------------------
    Case(
        "event line that is not JSON",
        "usage_events",
        "events_bad.jsonl",
        _jsonl(EVENT, raw='{"request_id": "req-2", "model": gpt-4o}\n'),
    ),
    Case(
        "event line that is not an object",
        "usage_events",
        "events_list.jsonl",
        _jsonl(EVENT, raw="[1, 2, 3]\n"),
    ),
    Case(
        "negative token count in an event",
        "usage_events",
        "events_negative.jsonl",
        _jsonl({**EVENT, "output_tokens": -300}),
        row=1,
        field="output_tokens",
    ),
    Case(
        "event without its input tokens",
        "usage_events",
        "events_noinput.jsonl",
        _jsonl({k: v for k, v in EVENT.items() if k != "input_tokens"}),
        row=1,
        field="input_tokens",
    ),
    Case(
        "event without a required label",
        "usage_events",
        "events_nolabel.jsonl",
        _jsonl(EVENT, {**EVENT, "request_id": "req-2", "labels": {"env": "prod"}}),
        row=1,
        field="env",
        options={"tags": '{ env = "labels.env" }', "required": '["env"]'},
    ),
    Case(
        "event cost in a currency without a rate",
        "usage_events",
        "events_eur.jsonl",
        _jsonl({**EVENT, "cost": 0.02, "currency": "EUR"}),
        row=1,
        field="currency",
    ),
    Case(
        "event service tier that is no tier",
        "usage_events",
        "events_tier.jsonl",
        _jsonl({**EVENT, "service_tier": "express"}),
        row=1,
        field="service_tier",
    ),
    Case(
        "reasoning tokens above output tokens",
        "usage_events",
        "events_reasoning.jsonl",
        _jsonl({**EVENT, "reasoning_tokens": 500}),
        row=1,
        field="reasoning_tokens",
    ),
    # --- langfuse ---------------------------------------------------------------------------
    Case(
        "observation line that is not JSON",
        "langfuse",
        "observations_bad.jsonl",
        _jsonl(OBSERVATION, raw='{"id": "obs-2", \n'),
    ),
    Case(
        "observations without usage_details",
        "langfuse",
        "observations.csv",
        _csv("id,type,start_time,provided_model_name", "obs-1,GENERATION,2026-10-01 08:00:00,x"),
    ),
    Case(
        "observation start time that is not a time",
        "langfuse",
        "observations_time.jsonl",
        _jsonl({**OBSERVATION, "start_time": "soon"}),
        row=1,
        field="ts",
    ),
    Case(
        "negative usage in an observation",
        "langfuse",
        "observations_negative.jsonl",
        _jsonl({**OBSERVATION, "usage_details": {"input": 10, "output": -3}}),
        row=1,
        field="output_tokens",
    ),
    # --- dcgm_prometheus ------------------------------------------------------------------
    Case(
        "response that is not JSON",
        "dcgm_prometheus",
        "DCGM_FI_DEV_GPU_UTIL_bad.json",
        b'{"status": "success", "data": ',
    ),
    Case(
        "error response",
        "dcgm_prometheus",
        "DCGM_FI_DEV_GPU_UTIL_err.json",
        _dcgm([], status="error"),
    ),
    Case(
        "instant vector instead of a range",
        "dcgm_prometheus",
        "DCGM_FI_DEV_GPU_UTIL_vec.json",
        _dcgm([], kind="vector"),
    ),
    Case(
        "sample value that is not a number",
        "dcgm_prometheus",
        "DCGM_FI_DEV_GPU_UTIL_abc.json",
        _dcgm([[1790000000, "37"], [1790000060, "abc"]]),
    ),
    Case(
        "sample that is not a pair",
        "dcgm_prometheus",
        "DCGM_FI_DEV_GPU_UTIL_pair.json",
        _dcgm([[1790000000]]),
    ),
    Case(
        "gzip response cut off",
        "dcgm_prometheus",
        "DCGM_FI_DEV_GPU_UTIL_cut.json.gz",
        lambda p: p.write_bytes(
            gzip.compress(_dcgm([[1790000000 + i, "1"] for i in range(500)]))[:-50]
        ),
    ),
    Case(
        "a series twice with different values",
        "dcgm_prometheus",
        "DCGM_FI_DEV_GPU_UTIL_twice.json",
        _dcgm_series((GPU_LABELS, [[1790000000, "37"]]), (GPU_LABELS, [[1790000000, "80"]])),
    ),
    Case(
        "utilisation above 100 %",
        "dcgm_prometheus",
        "DCGM_FI_DEV_GPU_UTIL_250.json",
        _dcgm([[1790000000, "37"], [1790000060, "250"]]),
    ),
    # --- nvidia_smi -----------------------------------------------------------------------
    Case(
        "log without a uuid column",
        "nvidia_smi",
        "nouuid.csv",
        _csv(SMI_HEADER.replace(" uuid,", ""), SMI_LINE.replace(" GPU-1,", "")),
    ),
    Case(
        "sample time that is not a time",
        "nvidia_smi",
        "smitime.csv",
        _csv(
            SMI_HEADER,
            SMI_LINE.replace("2026/10/01 00:00:00.000", "2026/13/01 00:00:00.000"),
            SMI_LINE,
        ),
        row=2,
        field="interval_start",
    ),
    Case(
        "utilisation that is not a number",
        "nvidia_smi",
        "smiutil.csv",
        _csv(SMI_HEADER, SMI_LINE.replace("37 %", "high %")),
        row=2,
        field="utilization",
    ),
    Case(
        "unknown time zone",
        "nvidia_smi",
        "smizone.csv",
        _csv(SMI_HEADER, SMI_LINE),
        options={"timezone": "Mars/Olympus"},
        names_file=False,
    ),
    Case(
        "sample time twice with different values",
        "nvidia_smi",
        "smitwice.csv",
        _csv(SMI_HEADER, SMI_LINE, SMI_LINE.replace("37 %", "90 %")),
        row=2,
    ),
    # --- kpi_csv --------------------------------------------------------------------------
    Case(
        "KPI file without a value column",
        "kpi_csv",
        "novalue.csv",
        _csv(KPI_HEADER.replace(",value", ""), KPI_LINE.replace(",120", "")),
    ),
    Case(
        "KPI value that is not a number",
        "kpi_csv",
        "kpivalue.csv",
        _csv(KPI_HEADER, KPI_LINE.replace(",120,", ",12O,")),
        row=2,
        field="value",
    ),
    Case(
        "KPI period that ends before it starts",
        "kpi_csv",
        "kpiorder.csv",
        _csv(KPI_HEADER, KPI_LINE.replace("2026-11-01", "2026-09-01")),
        row=2,
        field="period_end",
    ),
    Case(
        "KPI date that is not a date",
        "kpi_csv",
        "kpidate.csv",
        _csv(KPI_HEADER, KPI_LINE.replace("2026-10-01", "01.10.2026")),
        row=2,
        field="period_start",
    ),
    Case(
        "KPI key twice with different values",
        "kpi_csv",
        "kpitwice.csv",
        _csv(KPI_HEADER, KPI_LINE, KPI_LINE.replace(",120,", ",125,")),
        row=2,
        field="kpi",
    ),
    # --- kpi_excel ------------------------------------------------------------------------
    Case(
        "workbook that is not a zip",
        "kpi_excel",
        "notzip.xlsx",
        b"PK\x03\x04 not really a workbook",
    ),
    Case(
        "workbook without a KPI header",
        "kpi_excel",
        "noheader.xlsx",
        _workbook([["Unit values"], ["x", None, "USD", 1.0]]),
    ),
    Case(
        "formula with no saved result",
        "kpi_excel",
        "formula.xlsx",
        _workbook(
            [
                ["KPI", "Model", "Unit", __import__("datetime").date(2026, 10, 1)],
                ["cost", None, "USD", "=1+1"],
            ]
        ),
    ),
    Case(
        "text in a month cell",
        "kpi_excel",
        "textcell.xlsx",
        _workbook(
            [
                ["KPI", "Model", "Unit", __import__("datetime").date(2026, 10, 1)],
                ["cost", None, "USD", "n/a"],
            ]
        ),
        row=2,
        field="D2",
    ),
    Case(
        "two columns for one month",
        "kpi_excel",
        "twomonths.xlsx",
        _workbook_cells(
            [
                ["KPI", "Model", "Unit", __import__("datetime").date(2026, 10, 1), "Oct 2026"],
                ["cost", None, "USD", 1.0, 2.0],
            ]
        ),
        field="E1",
    ),
    Case(
        "values under a merged month header",
        "kpi_excel",
        "merged.xlsx",
        _workbook_cells(
            [
                ["KPI", "Model", "Unit", "Sep 2026", "Oct 2026", None],
                ["cost", None, "USD", 1.0, 2.0, 3.0],
            ],
            merge="E1:F1",
        ),
        field="F1",
    ),
    # --- ab_test_csv ----------------------------------------------------------------------
    Case(
        "experiment results without units",
        "ab_test_csv",
        "nounits.csv",
        _csv(AB_HEADER.replace(",units", ""), AB_LINE.replace(",5000", "")),
    ),
    Case(
        "negative standard deviation",
        "ab_test_csv",
        "std.csv",
        _csv(AB_HEADER, AB_LINE.replace(",0.4,", ",-0.4,")),
        row=2,
        field="std_dev",
    ),
    # --- model_metrics_csv ----------------------------------------------------------------
    Case(
        "metrics without a value column",
        "model_metrics_csv",
        "nometric.csv",
        _csv(METRICS_HEADER.replace(",value", ""), METRICS_LINE.replace(",0.91", "")),
    ),
    Case(
        "metric value that is infinite",
        "model_metrics_csv",
        "infmetric.csv",
        _csv(METRICS_HEADER, METRICS_LINE.replace("0.91", "inf")),
        row=2,
        field="value",
    ),
    # --- focus_commitments ------------------------------------------------------------------
    Case(
        "commitment with an unknown category",
        "focus_commitments",
        "commitments.csv",
        _csv(
            "ContractCommitmentId,ContractId,ContractCommitmentCategory,"
            "ContractCommitmentPeriodStart,ContractCommitmentPeriodEnd,BillingCurrency,"
            "ContractCommitmentCost",
            "sp-1,c-1,Other,2026-10-01T00:00:00Z,2026-11-01T00:00:00Z,USD,100",
        ),
        row=2,
        field="category",
    ),
    Case(
        "commitment file without its period",
        "focus_commitments",
        "commitments.csv",
        _csv(
            "ContractCommitmentId,ContractId,ContractCommitmentCategory,BillingCurrency",
            "sp-1,c-1,Spend,USD",
        ),
    ),
    # --- mlflow_runs ------------------------------------------------------------------------
    Case(
        "MLflow runs export without a model column",
        "mlflow_runs",
        "runs.csv",
        _csv(
            "run_id,experiment_id,status,end_time,metrics.val_auc",
            "a1b2,1,FINISHED,2026-10-01 10:00:00+00:00,0.91",
        ),
        field="tags.model_id",
    ),
    Case(
        "MLflow run metric that is not a number",
        "mlflow_runs",
        "runs.csv",
        _csv(
            "run_id,experiment_id,status,end_time,metrics.val_auc,tags.model_id",
            "a1b2,1,FINISHED,2026-10-01 10:00:00+00:00,high,fraud-detection",
        ),
        row=2,
        field="value",
    ),
    # --- kpi_file ---------------------------------------------------------------------------
    Case(
        "KPI file without the header its mapping names",
        "kpi_file",
        "finance.csv",
        _csv("Metric,Month,Amount", "tickets,2026-10-01,12"),
        field="Revenue",
        options={"columns": '{kpi = "Metric", period_start = "Month", value = "Revenue"}'},
    ),
    Case(
        "KPI file month that is no date",
        "kpi_file",
        "finmonth.csv",
        _csv("Metric,Month,Amount", "tickets,sometime,12"),
        row=2,
        field="period_start",
        options={"columns": '{kpi = "Metric", period_start = "Month", value = "Amount"}'},
    ),
    # --- aws_cur ----------------------------------------------------------------------------
    Case(
        "CUR without its payer account",
        "aws_cur",
        "nopayer.csv",
        _csv(CUR_HEADER.replace("bill/PayerAccountId,", ""), CUR_LINE.replace("111122223333,", "")),
        field="bill/PayerAccountId",
    ),
    Case(
        "CUR cost that is not a number",
        "aws_cur",
        "curcost.csv",
        _csv(CUR_HEADER, CUR_LINE.replace(",1.25", ",1.2.5")),
        row=2,
        field="lineItem/UnblendedCost",
    ),
    Case(
        "CUR usage start that is no date",
        "aws_cur",
        "curdate.csv",
        _csv(
            CUR_HEADER,
            CUR_LINE.replace(",2026-10-01T00:00:00Z,2026-10-01T01", ",yesterday,2026-10-01T01"),
        ),
        row=2,
        field="lineItem/UsageStartDate",
    ),
    Case(
        "CUR cut off mid-row",
        "aws_cur",
        "curcut.csv",
        _csv(CUR_HEADER, CUR_LINE, CUR_LINE[:-20], end=""),
        row=3,
    ),
    Case("CUR manifest names a missing part", "aws_cur", "curparts", _cur_missing_part),
    # --- azure_cost -------------------------------------------------------------------------
    Case(
        "Azure export without a charge type",
        "azure_cost",
        "nocharge.csv",
        _csv(AZURE_HEADER.replace("ChargeType,", ""), AZURE_LINE.replace("Usage,", "")),
        field="ChargeType",
    ),
    Case(
        "Azure cost that is not a number",
        "azure_cost",
        "azcost.csv",
        _csv(AZURE_HEADER, AZURE_LINE.replace(",3.25,", ",3.25 USD,")),
        row=2,
        field="Cost",
    ),
    Case(
        "Azure date in another order",
        "azure_cost",
        "azdate.csv",
        _csv(AZURE_HEADER, AZURE_LINE.replace(",09/21/2023,", ",21.09.2023,")),
        row=2,
        field="Date",
    ),
    Case(
        "Azure account billed in two currencies",
        "azure_cost",
        "azcurrency.csv",
        _csv(AZURE_HEADER, AZURE_LINE, AZURE_LINE.replace(",USD", ",EUR")),
    ),
    # --- gcp_billing ------------------------------------------------------------------------
    Case(
        "GCP export without its invoice month",
        "gcp_billing",
        "nomonth.csv",
        _csv(GCP_HEADER.replace("invoice.month,", ""), GCP_LINE.replace("202610,", "")),
        field="invoice.month",
    ),
    Case(
        "GCP cost that is not a number",
        "gcp_billing",
        "gcpcost.csv",
        _csv(GCP_HEADER, GCP_LINE.replace(",1.5,", ",one,")),
        row=2,
        field="cost",
    ),
    Case(
        "GCP credits that are not a list",
        "gcp_billing",
        "gcpcredits.csv",
        _csv(GCP_HEADER, GCP_LINE.replace(",[]", ',"{oops"')),
        row=2,
        field="credits",
    ),
    # --- oci_cost ---------------------------------------------------------------------------
    Case(
        "OCI report without its tenant",
        "oci_cost",
        "notenant.csv",
        _csv(
            OCI_HEADER.replace("lineItem/tenantId,", ""),
            OCI_LINE.replace("ocid1.tenancy.oc1..t,", ""),
        ),
        field="lineItem/tenantId",
    ),
    Case(
        "OCI cost that is not a number",
        "oci_cost",
        "ocicost.csv",
        _csv(OCI_HEADER, OCI_LINE.replace(",1.5,", ",1.5x,")),
        row=2,
        field="cost/myCost",
    ),
    Case(
        "OCI start that is no time",
        "oci_cost",
        "ocistart.csv",
        _csv(OCI_HEADER, OCI_LINE.replace("2026-10-02T10:00Z", "13/11/2023 10h")),
        row=2,
        field="lineItem/intervalUsageStart",
    ),
    # --- LLM provider APIs (saved pages) and OpenCost ---------------------------------------
    Case("usage page cut off", "openai_usage", "cut.json", _usage_page()[:-40]),
    Case(
        "negative usage tokens",
        "openai_usage",
        "negative.json",
        _usage_page(output_tokens=-300),
        row=1,
        field="output_tokens",
    ),
    Case(
        "cost in a currency with no rate",
        "openai_costs",
        "eur.json",
        _cost_page(currency="eur"),
        row=1,
        field="currency",
    ),
    Case(
        "negative uncached tokens",
        "anthropic_usage",
        "uncached.json",
        _anthropic_page(
            uncached_input_tokens=-5,
            cache_read_input_tokens=0,
            output_tokens=1,
            cache_creation={"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
            model="claude-sonnet-4-20250514",
        ),
        row=1,
        field="uncached_input_tokens",
    ),
    Case(
        "cost in cents that is no number",
        "anthropic_cost",
        "cents.json",
        _anthropic_page(amount="12,5", currency="USD", model="claude-sonnet-4-20250514"),
        row=1,
        field="amount",
    ),
    Case(
        "allocation without data", "opencost", "alloc.json", b'{"code": 200, "status": "success"}'
    ),
    Case(
        "inference cost of no model",
        "opencost_inference",
        "inference.json",
        json.dumps(
            {
                "code": 200,
                "data": {
                    "inferenceCosts": {
                        "x": {
                            "properties": {"namespace": "llm"},
                            "window": {
                                "start": "2026-10-01T00:00:00Z",
                                "end": "2026-10-02T00:00:00Z",
                            },
                            "costBasis": "allocation",
                            "totalCost": 3.2,
                            "promptTokens": 12_000_000,
                            "generationTokens": 3_000_000,
                        }
                    },
                    "window": {"start": "2026-10-01T00:00:00Z", "end": "2026-10-02T00:00:00Z"},
                },
            }
        ).encode(),
        row=1,
        field="model_name",
    ),
    Case(
        "inference cost response of another API",
        "opencost_inference",
        "inference.json",
        b'{"code": 200, "data": [{"ns/pod": {"gpuHours": 1}}]}',
    ),
]


@pytest.fixture(scope="module")
def warehouse_copy(loaded_project: ProjectConfig, tmp_path_factory: pytest.TempPathFactory) -> Kept:
    """A loaded warehouse (with its data folder) that every case tries to change."""
    folder = tmp_path_factory.mktemp("bad-input")
    target = folder / "w.duckdb"
    shutil.copy2(loaded_project.warehouse_path, target)
    shutil.copytree(data_dir(loaded_project.warehouse_path), data_dir(target))
    return Kept(target, files_digest(target), snapshot(target))


@dataclass(frozen=True)
class Kept:
    """The warehouse the cases try to change, with its bytes' digest and its content."""

    path: Path
    files: str
    content: dict[str, tuple[object, ...]]

    def unchanged(self) -> bool:
        """The same bytes on disk, or (where DuckDB rewrote some) the same rows in every table."""
        return files_digest(self.path) == self.files or snapshot(self.path) == self.content


def test_at_least_forty_cases_across_every_connector_type() -> None:
    from roi.connectors import connector_types

    assert len(CASES) >= 40
    covered = {c.kind for c in CASES}
    # kpi_sql, litellm_postgres and mlflow_metrics read servers: see test_kpi_sql.py,
    # test_litellm_postgres.py and test_mlflow_metrics.py
    assert covered >= set(connector_types()) - {"kpi_sql", "litellm_postgres", "mlflow_metrics"}
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_one_error_line_and_changes_nothing(
    case: Case, warehouse_copy: Kept, tmp_path: Path
) -> None:
    warehouse_file = warehouse_copy.path
    path = tmp_path / case.name
    if callable(case.content):
        case.content(path)
    else:
        path.write_bytes(case.content)
    options = [arg for k, v in case.options.items() for arg in ("--option", f"{k}={v}")]
    result = CliRunner().invoke(
        cli,
        ["ingest", case.kind, str(path), "--warehouse", str(warehouse_file), "--quiet", *options],
    )
    stderr = result.stderr
    assert result.exit_code == 1, (result.exit_code, stderr, result.stdout)
    assert stderr.startswith("Error: ") and stderr.count("\n") == 1, stderr
    assert "Traceback" not in stderr and "unexpected" not in stderr, stderr
    assert case.name in stderr or not case.names_file, stderr
    if case.row is not None:
        assert re.search(rf"\brow {case.row}\b", stderr), stderr
    if case.field is not None:
        assert case.field in stderr, stderr
    assert warehouse_copy.unchanged()


def test_readme_lists_every_case() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    missing = [c.id for c in CASES if f"| {c.id} |" not in readme]
    assert not missing, f"README reliability table lacks: {missing}"
