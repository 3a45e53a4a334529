"""Your own data: `roi connect` and `roi models suggest`."""

from __future__ import annotations

from pathlib import Path

import click

from roi.cli.group import cli
from roi.cli.support import (
    Options,
    command_group,
    emit,
    emit_document,
    in_range,
    roi_command,
    say,
)


@cli.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--type", "connector_type", default=None, help="The connector type (default: detected)."
)
@click.option("--name", default=None, help="The connector's name (default: from the path).")
@click.option(
    "--option",
    "options",
    multiple=True,
    metavar="KEY=VALUE",
    help="A connector option (repeatable).",
)
@roi_command
def connect(
    opts: Options,
    path: Path,
    connector_type: str | None,
    name: str | None,
    options: tuple[str, ...],
) -> None:
    """Recognise a file or folder, write its connector, load it and say what it holds.

    Billing exports (FOCUS), LiteLLM spend logs, DCGM series saved from Prometheus, nvidia-smi
    logs, KPI files and workbooks, A/B results and model metrics are recognised by their
    columns. The definition (connectors/NAME.toml) is kept only when the load succeeds.

    \b
    Examples:
      roi connect ~/exports/focus
      roi connect kpis.xlsx --name finance_kpis
    """
    from roi.start.connect import connect as connect_source

    parsed = dict(item.split("=", 1) for item in options if "=" in item)
    result = connect_source(
        opts.context(), path, connector_type=connector_type, name=name, options=parsed
    )
    if opts.fmt == "json":
        emit_document(result.to_document())
        return
    opts.progress.info(
        f"{result.connector}: {result.detected.reason} → connector type {result.detected.type}, "
        f"written to {result.file}"
    )
    for line in result.summary.lines():
        say(line)


models = command_group("models", "Model definitions: proposed from the billing data's tags.")
cli.add_command(models)


@models.command("suggest")
@click.option("--key", default=None, help="The tag key to take models from (default: the best).")
@click.option("--write", is_flag=True, help="Write the models that have no definition yet.")
@click.option("--value", "values", multiple=True, help="Only these tag values (repeatable).")
@click.option(
    "--top", type=int, default=20, show_default=True, help="The costliest N (1 to 10,000)."
)
@roi_command
def suggest(opts: Options, key: str | None, write: bool, values: tuple[str, ...], top: int) -> None:
    """Propose models from the billing lines' tags: the tag keys ranked, the chosen key's values
    with their monthly cost; --write writes them as models/*.toml.

    \b
    Examples:
      roi models suggest
      roi models suggest --key application --top 10 --write
    """
    import polars as pl

    from roi.start.suggest import suggest as suggest_models
    from roi.start.suggest import write_models

    ctx = opts.context()
    found = suggest_models(ctx, key, in_range("--top", top, 1, 10_000))
    for candidate in found.keys[:8]:
        opts.progress.info(
            f"tag {candidate.tag.key!r}: {candidate.tag.values} value(s) on "
            f"{candidate.tag.share:.0%} of the cost ({candidate.why})"
        )
    more = f"; {found.left_out} more value(s) with less or no cost" if found.left_out else ""
    click.echo(f"models from tag {found.key!r}{more}:", err=True)
    emit(opts, pl.DataFrame([m.to_document() for m in found.models]))
    if write:
        written = write_models(ctx, found, list(values) or None)
        click.echo(
            f"wrote {len(written)} model definition(s) to {ctx.project.root / 'models'}", err=True
        )
