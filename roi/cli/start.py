"""Your own data: `roi connect` and `roi models suggest`."""

from __future__ import annotations

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
@click.argument("source", required=False, metavar="[SOURCE]")
@click.option(
    "--type", "connector_type", default=None, help="The connector type (default: detected)."
)
@click.option("--name", default=None, help="The connector's name (default: from the source).")
@click.option(
    "--option",
    "options",
    multiple=True,
    metavar="KEY=VALUE",
    help="A connector option (repeatable).",
)
@click.option(
    "--key-env",
    metavar="VAR",
    default=None,
    help="The environment variable holding the API's admin key or token (never the key).",
)
@click.option(
    "--dsn-env",
    metavar="VAR",
    default=None,
    help="The environment variable holding a database's whole connection string.",
)
@click.option(
    "--password-env",
    metavar="VAR",
    default=None,
    help="The environment variable holding the password of a database URL's user.",
)
@roi_command
def connect(
    opts: Options,
    source: str | None,
    connector_type: str | None,
    name: str | None,
    options: tuple[str, ...],
    key_env: str | None,
    dsn_env: str | None,
    password_env: str | None,
) -> None:
    """Recognise a file, folder or URL, write its connector, load it and say what it holds.

    Billing exports (FOCUS), LiteLLM spend logs, DCGM series saved from Prometheus, nvidia-smi
    logs, KPI files and workbooks, A/B results and model metrics are recognised by their
    columns, saved API pages by their JSON. A URL names a service: OpenAI's usage and costs
    APIs, Anthropic's usage and cost reports, OpenCost's allocation API (--key-env names the
    variable holding the key or token), or LiteLLM's PostgreSQL database (a postgresql:// URL,
    with --password-env, or --dsn-env alone). Secrets are never written to the definition
    (connectors/NAME.toml), which is kept only when the load succeeds.

    \b
    Examples:
      roi connect ~/exports/focus
      roi connect kpis.xlsx --name finance_kpis
      roi connect https://api.openai.com/v1/organization/costs --key-env OPENAI_ADMIN_KEY
      roi connect https://api.anthropic.com --type anthropic_cost --key-env ANTHROPIC_ADMIN_KEY
      roi connect --type litellm_postgres --dsn-env LITELLM_DATABASE_URL
    """
    from roi.start.connect import connect as connect_source
    from roi.start.locate import Secrets

    if source is None and dsn_env is None:
        raise click.UsageError("name a file, folder or URL to connect (or --dsn-env VAR)")
    parsed = dict(item.split("=", 1) for item in options if "=" in item)
    result = connect_source(
        opts.context(),
        source,
        connector_type=connector_type,
        name=name,
        options=parsed,
        secrets=Secrets(key_env, dsn_env, password_env),
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
