"""LiteLLM spend logs, DCGM/Prometheus series, nvidia-smi logs, KPI files and metrics."""

from __future__ import annotations

import csv
import gzip
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from roi import pipeline
from roi.connectors.dcgm import MEMORY_METRIC, UTILIZATION_METRICS, workload_of
from roi.context import Context
from roi.errors import SourceError, ValidationFailed
from roi.loading.loader import LoadResult
from tests.conftest import shared_file
from tests.helpers import number, of_type


def _ingest(tmp_path: Path, kind: str, path: Path, **options: object) -> LoadResult:
    return pipeline.ingest(
        Context.for_warehouse(tmp_path / "w.duckdb", tmp_path),
        kind,
        str(path),
        options=dict(options),
    )


def _rows(tmp_path: Path, sql: str) -> list[tuple[object, ...]]:
    return pipeline.query(Context.for_warehouse(tmp_path / "w.duckdb"), sql).rows()


SPEND_LOG_HEADER = (
    "request_id,call_type,api_key,spend,total_tokens,prompt_tokens,completion_tokens,startTime,"
    "endTime,model,model_group,custom_llm_provider,metadata,request_tags,team_id,status"
)


def _spend_log(tmp_path: Path, rows: list[dict[str, object]]) -> Path:
    path = tmp_path / "spend.csv"
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, SPEND_LOG_HEADER.split(","))
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
    return path


def test_litellm_cached_tokens_tags_and_portfolio_id(tmp_path: Path) -> None:
    common = {
        "call_type": "acompletion",
        "api_key": "abc",
        "startTime": "2026-10-01 08:00:00.123",
        "endTime": "2026-10-01 08:00:02.500",
        "team_id": "t",
        "status": "success",
    }
    openai_style = {
        **common,
        "request_id": "chatcmpl-1",
        "spend": "0.0125",
        "total_tokens": 4600,
        "prompt_tokens": 4000,
        "completion_tokens": 600,
        "model": "gpt-4o",
        "model_group": "support-gpt-4o",
        "custom_llm_provider": "azure",
        "metadata": json.dumps(
            {
                "spend_logs_metadata": {"model_portfolio_id": "support-assistant"},
                "additional_usage_values": {"prompt_tokens_details": {"cached_tokens": 2048}},
                "user_api_key_team_alias": "customer-service",
            }
        ),
        "request_tags": json.dumps(["feature:support-assistant", "env:prod", "beta"]),
    }
    anthropic_style = {
        **common,
        "request_id": "msg_bdrk_1",
        "spend": "0.02",
        "total_tokens": 9900,
        "prompt_tokens": 9000,
        "completion_tokens": 900,
        "model": "anthropic.claude-3-5-sonnet-20241022-v2:0",
        "model_group": "docx-sonnet",
        "custom_llm_provider": "bedrock",
        "metadata": json.dumps(
            {
                "additional_usage_values": {
                    "cache_read_input_tokens": 2700,
                    "cache_creation_input_tokens": 450,
                }
            }
        ),
        "request_tags": json.dumps(["feature:doc-extraction"]),
    }
    path = _spend_log(tmp_path, [openai_style, anthropic_style])
    assert _ingest(tmp_path, "litellm_spend_logs", path).rows_loaded == 2
    rows = _rows(
        tmp_path,
        "SELECT request_id, model_id, feature, team, input_tokens, cached_input_tokens, "
        "cache_write_tokens, output_tokens, cost, tags['beta'], ts::VARCHAR FROM inference_usage "
        "ORDER BY request_id",
    )
    assert rows == [
        (
            "chatcmpl-1",
            "support-assistant",
            "support-assistant",
            "customer-service",
            4000,
            2048,
            0,
            600,
            Decimal("0.0125000000"),
            "true",
            "2026-10-01 08:00:00.123+00",
        ),
        (
            "msg_bdrk_1",
            None,
            "doc-extraction",
            "t",
            9000,
            2700,
            450,
            900,
            Decimal("0.0200000000"),
            None,
            "2026-10-01 08:00:00.123+00",
        ),
    ]


def test_litellm_cached_above_input_is_rejected(tmp_path: Path) -> None:
    row = {
        "request_id": "r1",
        "call_type": "acompletion",
        "api_key": "k",
        "spend": "0.1",
        "total_tokens": 10,
        "prompt_tokens": 10,
        "completion_tokens": 0,
        "startTime": "2026-10-01 08:00:00",
        "endTime": "2026-10-01 08:00:01",
        "model": "gpt-4o",
        "metadata": json.dumps(
            {"additional_usage_values": {"prompt_tokens_details": {"cached_tokens": 50}}}
        ),
        "request_tags": "[]",
        "status": "success",
    }
    with pytest.raises(
        ValidationFailed,
        match=r"spend\.csv row 2 field cached_input_tokens: cached and cache-write",
    ):
        _ingest(tmp_path, "litellm_spend_logs", _spend_log(tmp_path, [row]))


def _matrix(metric: str, labels: dict[str, str], values: list[list[object]]) -> dict[str, object]:
    return {"metric": {"__name__": metric, **labels}, "values": values}


def test_dcgm_hostname_rename_idle_gpus_and_nan(tmp_path: Path) -> None:
    gpu = {"gpu": "0", "UUID": "GPU-aaaa", "modelName": "NVIDIA L40S", "device": "nvidia0"}
    old = {
        **gpu,
        "Hostname": "node-a",
        "namespace": "recsys",
        "pod": "recsys-ranker-7d9f8b6c5d-x2kqp",
        "container": "ranker",
        "label_team": "digital",
    }
    new = {
        **gpu,
        "UUID": "GPU-bbbb",
        "hostname": "node-b",
        "pod": "",
        "namespace": "",
        "container": "",
    }
    body = {
        "status": "success",
        "data": {
            "resultType": "matrix",
            "result": [
                _matrix(
                    "DCGM_FI_PROF_GR_ENGINE_ACTIVE",
                    old,
                    [[1767225600, "0.42"], [1767229200, "NaN"]],
                ),
                _matrix("DCGM_FI_PROF_GR_ENGINE_ACTIVE", new, [[1767225600, "0"]]),
                _matrix("DCGM_FI_DEV_FB_USED", old, [[1767225600, "30000"], [1767229200, "30010"]]),
            ],
        },
    }
    folder = tmp_path / "dcgm"
    folder.mkdir()
    (folder / "DCGM_FI_PROF_GR_ENGINE_ACTIVE_2026-01.json.gz").write_bytes(
        gzip.compress(json.dumps(body).encode())
    )
    result = _ingest(tmp_path, "dcgm_prometheus", folder, cluster="c1", step_seconds=3600)
    assert result.rows_loaded == 3
    rows = _rows(
        tmp_path,
        "SELECT node, pod, workload, gpu_share, utilization, memory_used_bytes, labels['label_team'], "
        "(interval_end - interval_start)::VARCHAR FROM gpu_usage ORDER BY node, interval_start",
    )
    assert rows == [
        (
            "node-a",
            "recsys-ranker-7d9f8b6c5d-x2kqp",
            "recsys-ranker",
            1.0,
            0.42,
            30000 * 2**20,
            "digital",
            "01:00:00",
        ),
        (
            "node-a",
            "recsys-ranker-7d9f8b6c5d-x2kqp",
            "recsys-ranker",
            1.0,
            None,
            30010 * 2**20,
            "digital",
            "01:00:00",
        ),
        ("node-b", None, None, 0.0, 0.0, None, None, "01:00:00"),
    ]


def test_dcgm_error_responses_are_clear(tmp_path: Path) -> None:
    folder = tmp_path / "dcgm"
    folder.mkdir()
    (folder / "DCGM_FI_DEV_FB_USED_2026-01.json").write_text(
        json.dumps({"status": "error", "errorType": "bad_data", "error": "parse error"})
    )
    with pytest.raises(
        SourceError, match="status is 'error' \\(error 'parse error'\\); re-run the query"
    ):
        _ingest(tmp_path, "dcgm_prometheus", folder)


def test_dcgm_metrics_exist_in_the_exporter_defaults() -> None:
    counters = shared_file("gpu/nvidia-dcgm-exporter/default-counters.csv").read_text()
    enabled = {
        line.split(",")[0].strip()
        for line in counters.splitlines()
        if line.startswith("DCGM_FI")  # a line starting with '#' is disabled in the exporter
    }
    for metric in [*UTILIZATION_METRICS, MEMORY_METRIC]:
        assert metric in enabled


def test_workload_of_pod_names() -> None:
    assert workload_of("recsys-ranker-7d9f8b6c5d-x2kqp") == "recsys-ranker"
    assert workload_of("triage-bert-0") == "triage-bert"
    assert workload_of("standalone") == "standalone"
    assert workload_of(None) is None


def test_nvidia_smi_units_na_and_repeated_headers(tmp_path: Path) -> None:
    header = (
        "timestamp, index, uuid, name, utilization.gpu [%], utilization.memory [%], "
        "memory.used [MiB], memory.total [MiB], power.draw [W]"
    )
    log = (
        "\n".join(
            [
                header,
                "2026/09/01 00:00:03.412, 0, GPU-1, NVIDIA A10G, 87 %, 41 %, 18234 MiB, 23028 MiB, 187.41 W",
                "2026/09/01 00:15:03.512, 0, GPU-1, NVIDIA A10G, 90 %, 44 %, 18300 MiB, 23028 MiB, [N/A]",
                header,
                "2026/09/02 00:00:05.000, 0, GPU-1, NVIDIA A10G, 12 %, 5 %, 4100 MiB, 23028 MiB, 61.00 W",
            ]
        )
        + "\n"
    )
    path = tmp_path / "host-1.csv"
    path.write_text(log)
    assert (
        _ingest(tmp_path, "nvidia_smi", path, workloads={"host-1": "demand-forecast"}).rows_loaded
        == 1
    )
    rows = _rows(
        tmp_path,
        "SELECT node, workload, utilization, memory_used_bytes, power_watts, source_row, "
        "(interval_end - interval_start)::VARCHAR FROM gpu_usage ORDER BY interval_start",
    )
    # Sample and hold: the first sample covers the time to the second. The second ends a run
    # (the host was off for the night) and the third ends the log: the log says nothing about
    # how long the GPU ran after them, so they cover no time.
    assert rows == [("host-1", "demand-forecast", 0.87, 18234 * 2**20, 187.41, 2, "00:15:00.1")]


def _smi_log(start: datetime, samples: int, step_seconds: int, gpus: int = 1) -> str:
    header = "timestamp, index, uuid, name, utilization.gpu [%], memory.used [MiB]"
    lines = [header]
    for i in range(samples):
        when = start + timedelta(seconds=i * step_seconds)
        for g in range(gpus):
            lines.append(
                f"{when:%Y/%m/%d %H:%M:%S}.{(i * 37) % 1000:03d}, {g}, GPU-{g}, NVIDIA A10G, "
                f"{(i * 7 + g) % 100} %, {1000 + i} MiB"
            )
    return "\n".join(lines) + "\n"


def test_nvidia_smi_one_hour_log_is_one_gpu_hour_per_gpu(tmp_path: Path) -> None:
    # nvidia-smi -l 60 for one hour: 61 samples per GPU, from 10:00:00 to 11:00:00.
    path = tmp_path / "host-2.csv"
    path.write_text(_smi_log(datetime(2026, 10, 5, 10, tzinfo=UTC), 61, 60, gpus=2))
    _ingest(tmp_path, "nvidia_smi", path)
    [(gpu_hours, gpus, first, last)] = _rows(
        tmp_path,
        "SELECT sum(epoch(interval_end - interval_start)) / 3600, count(DISTINCT gpu_uuid), "
        "min(interval_start)::VARCHAR, max(interval_end)::VARCHAR FROM gpu_usage",
    )
    assert gpus == 2
    # The samples' own clock decides the span: last minus first sample, per GPU.
    expected = 2 * (60 * 60 + (60 * 37 % 1000) / 1000) / 3600
    assert gpu_hours == pytest.approx(expected, abs=1e-9)
    assert of_type(first, str).startswith("2026-10-05 10:00:00")
    assert of_type(last, str).startswith("2026-10-05 11:00:00")


def test_nvidia_smi_local_time_with_timezone_option(tmp_path: Path) -> None:
    # Logged in Berlin every 30 minutes across the end of summer time (2026-10-25, when 03:00
    # CEST becomes 02:00 CET): local 02:00 and 02:30 happen twice.
    local = ["01:30", "02:00", "02:30", "02:00", "02:30", "03:00"]
    lines = ["timestamp, index, uuid, name, utilization.gpu [%], memory.used [MiB]"] + [
        f"2026/10/25 {hhmm}:00.000, 0, GPU-0, NVIDIA A10G, 50 %, 1000 MiB" for hhmm in local
    ]
    path = tmp_path / "host-3.csv"
    path.write_text("\n".join(lines) + "\n")
    _ingest(tmp_path, "nvidia_smi", path, timezone="Europe/Berlin")
    rows = _rows(
        tmp_path,
        "SELECT strftime(interval_start, '%d %H:%M'), strftime(interval_end, '%d %H:%M') "
        "FROM gpu_usage ORDER BY interval_start",
    )
    assert rows == [
        ("24 23:30", "25 00:00"),
        ("25 00:00", "25 00:30"),
        ("25 00:30", "25 01:00"),
        ("25 01:00", "25 01:30"),  # the second 02:00, now CET
        ("25 01:30", "25 02:00"),
    ]


def test_nvidia_smi_timestamps_are_utc_without_the_option(tmp_path: Path) -> None:
    path = tmp_path / "host-4.csv"
    path.write_text(_smi_log(datetime(2026, 10, 5, 10, tzinfo=UTC), 2, 60))
    _ingest(tmp_path, "nvidia_smi", path)
    assert _rows(tmp_path, "SELECT strftime(interval_start, '%H:%M') FROM gpu_usage") == [
        ("10:00",)
    ]


def test_finance_workbook_skips_titles_formulas_and_open_months(
    project_dir: Path, tmp_path: Path
) -> None:
    workbook = project_dir / "sample_data/kpis/finance_unit_values.xlsx"
    result = _ingest(tmp_path, "kpi_excel", workbook, sheet="Unit values")
    rows = _rows(
        tmp_path,
        "SELECT count(*), count(DISTINCT kpi), max(period_start)::VARCHAR, "
        "count(*) FILTER (WHERE kpi = 'Total') FROM kpi_values",
    )
    # Independently: the numbers under the header row, above the formula row, per driver.
    from openpyxl import load_workbook

    sheet = load_workbook(workbook)["Unit values"]
    values = list(sheet.iter_rows(min_row=5, values_only=True))
    drivers = [r for r in values if r[0] and r[0] != "Total"]
    approved = sum(isinstance(v, int | float) for r in drivers for v in r[3:])
    assert approved < len(drivers) * 24  # some months are not approved yet: they are skipped
    assert result.rows_loaded == rows[0][0] == approved
    assert rows[0][1:] == (len(drivers), "2026-10-01", 0)
    [(file,)] = _rows(tmp_path, "SELECT DISTINCT source_file FROM kpi_values")
    assert of_type(file, str).endswith("finance_unit_values.xlsx#Unit values")


def test_ab_test_arms_become_kpi_segments(project_dir: Path, tmp_path: Path) -> None:
    _ingest(tmp_path, "ab_test_csv", project_dir / "sample_data/experiments/ab_tests.csv")
    rows = _rows(
        tmp_path,
        "SELECT segment, count(*), min(n) > 0 FROM kpi_values WHERE experiment_id = 'exp-recs-holdout' "
        "GROUP BY 1 ORDER BY 1",
    )
    months = {
        r["period_start"]
        for r in csv.DictReader(
            (project_dir / "sample_data/experiments/ab_tests.csv").open(encoding="utf-8")
        )
        if r["experiment_id"] == "exp-recs-holdout"
    }
    assert rows == [("control", len(months), True), ("treatment", len(months), True)]


def test_model_metrics_decay_and_retraining(project_dir: Path, tmp_path: Path) -> None:
    _ingest(tmp_path, "model_metrics_csv", project_dir / "sample_data/metrics/model_metrics.csv")
    rows = _rows(
        tmp_path,
        "SELECT model_id, count(DISTINCT model_version) AS versions, max(value) - min(value) AS spread "
        "FROM model_metrics GROUP BY 1 ORDER BY 1",
    )
    assert len(rows) == 12
    # Every model still running was retrained at least once in the window; the retired AML
    # screener decayed without retraining until it was switched off.
    assert all(number(versions) >= 2 for model, versions, _ in rows if model != "aml-screening")
    assert dict((m, v) for m, v, _ in rows)["aml-screening"] == 1
    assert all(number(spread) > 0.005 for _, _, spread in rows)


def test_dcgm_metrics_from_separately_named_files_combine(tmp_path: Path) -> None:
    labels = {
        "gpu": "0",
        "UUID": "GPU-cccc",
        "Hostname": "node-c",
        "pod": "svc-0",
        "namespace": "ns",
    }

    def body(metric: str, value: str) -> dict[str, object]:
        return {
            "status": "success",
            "data": {
                "resultType": "matrix",
                "result": [_matrix(metric, labels, [[1767225600, value]])],
            },
        }

    folder = tmp_path / "dcgm"
    folder.mkdir()
    (folder / "util-2026-01.json").write_text(
        json.dumps(body("DCGM_FI_PROF_GR_ENGINE_ACTIVE", "0.5"))
    )
    (folder / "mem-2026-01.json").write_text(json.dumps(body("DCGM_FI_DEV_FB_USED", "1024")))
    result = _ingest(tmp_path, "dcgm_prometheus", folder, step_seconds=3600)
    assert result.rows_loaded == 1
    assert _rows(tmp_path, "SELECT utilization, memory_used_bytes FROM gpu_usage") == [
        (0.5, 1024 * 2**20)
    ]


def test_kpi_periods_keep_their_calendar_date_whatever_the_offset(tmp_path: Path) -> None:
    path = tmp_path / "kpis.csv"
    path.write_text(
        "kpi,period_start,period_end,model_id,segment,value,unit\n"
        "revenue,2026-10-01 00:00:00+02:00,2026-11-01 00:00:00+01:00,m,all,10,USD\n"
    )
    _ingest(tmp_path, "kpi_csv", path)
    assert _rows(tmp_path, "SELECT period_start::VARCHAR, period_end::VARCHAR FROM kpi_values") == [
        ("2026-10-01", "2026-11-01")
    ]


def test_litellm_dump_with_only_the_core_columns(tmp_path: Path) -> None:
    path = tmp_path / "old.csv"
    path.write_text(
        "request_id,startTime,model,spend,prompt_tokens,completion_tokens\n"
        "r1,2026-10-01 08:00:00,gpt-4o,0.01,100,20\n"
    )
    assert _ingest(tmp_path, "litellm_spend_logs", path).rows_loaded == 1
    assert _rows(
        tmp_path, "SELECT request_id, feature, cached_input_tokens FROM inference_usage"
    ) == [("r1", None, 0)]


def test_nvidia_smi_bracketed_placeholders_are_nulls_and_blank_times_rejected(
    tmp_path: Path,
) -> None:
    path = tmp_path / "mig-host.csv"
    path.write_text(
        "timestamp, index, uuid, name, utilization.gpu [%], memory.used [MiB], power.draw [W]\n"
        "2026/09/01 00:00:03.412, 0, GPU-1, NVIDIA A100, [Not Supported], 100 MiB, [Unknown Error]\n"
        ", 0, GPU-1, NVIDIA A100, 5 %, 100 MiB, 50 W\n"
    )
    with pytest.raises(
        ValidationFailed,
        match=r"mig-host\.csv row 3 field interval_start: required value is missing",
    ):
        _ingest(tmp_path, "nvidia_smi", path)
    lines = path.read_text().splitlines()[:2]
    lines.append("2026/09/01 00:01:03.412, 0, GPU-1, NVIDIA A100, 7 %, 100 MiB, 50 W")
    path.write_text("\n".join(lines) + "\n")
    assert _ingest(tmp_path, "nvidia_smi", path).rows_loaded == 1  # the last sample covers no time
    assert _rows(tmp_path, "SELECT utilization, power_watts FROM gpu_usage") == [(None, None)]


def _workbook(path: Path, header: list[object], rows: list[list[object]]) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["Title"])
    ws.append(header)
    for row in rows:
        ws.append(row)
    wb.save(path)


def test_workbook_problems_are_named(tmp_path: Path) -> None:
    from datetime import date

    folder = tmp_path / "fpa"
    folder.mkdir()
    (folder / "~$units.xlsx").write_bytes(b"lock file, not a workbook")  # Excel's lock file
    _workbook(
        folder / "units.xlsx",
        ["KPI", "Model", "Unit", date(2026, 9, 1), date(2026, 10, 1)],
        [["cost_per_ticket", None, "USD", 7.5, "n/a"]],
    )
    with pytest.raises(ValidationFailed) as err:
        _ingest(tmp_path, "kpi_excel", folder)
    assert str(err.value).startswith(
        "fpa/units.xlsx#Sheet row 3 field E3 (2026-10): not a number in a KPI month cell "
        "(value 'n/a'); fix"
    )
    # Skipping rejects keeps the row's other months.
    result = pipeline.ingest(
        Context.for_warehouse(tmp_path / "w.duckdb", tmp_path),
        "kpi_excel",
        str(folder),
        on_reject="skip",
    )
    assert (result.rows_loaded, result.rows_rejected) == (1, 1)
    assert _rows(tmp_path, "SELECT period_start::VARCHAR, value FROM kpi_values") == [
        ("2026-09-01", 7.5)
    ]
    broken = tmp_path / "broken.xlsx"
    broken.write_text("not a zip")
    with pytest.raises(SourceError, match=r"broken\.xlsx: not a readable \.xlsx workbook"):
        _ingest(tmp_path, "kpi_excel", broken)
    no_months = tmp_path / "nomonths.xlsx"
    _workbook(no_months, ["KPI", "Model", "Unit", "FY total"], [["k", None, "USD", 1.0]])
    with pytest.raises(SourceError, match=r"nomonths\.xlsx#Sheet: the header row names no month"):
        _ingest(tmp_path, "kpi_excel", no_months)


def test_month_headers_typed_as_text_count_like_dates(tmp_path: Path) -> None:
    """Audit: "Oct 2026" typed as text dropped October without a word."""
    from datetime import date

    book = tmp_path / "fpa.xlsx"
    header = ["KPI", "Model", "Unit", date(2026, 8, 1), "Sep 2026", "October 2026"]
    header += ["2026-11", "12/2026", "Jan-27", "FY total"]
    values = [1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 99.0]
    _workbook(book, header, [["cost_per_ticket", None, "USD", *values]])
    _ingest(tmp_path, "kpi_excel", book)
    months = ["2026-08-01", "2026-09-01", "2026-10-01", "2026-11-01", "2026-12-01", "2027-01-01"]
    assert _rows(
        tmp_path, "SELECT period_start::VARCHAR, value FROM kpi_values ORDER BY 1"
    ) == list(zip(months, values[:6], strict=True))  # the FY total is not a month
