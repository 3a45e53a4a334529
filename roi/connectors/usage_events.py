"""Usage events as JSON lines (an in-house gateway's log) → `inference_usage`.

One request per line: a CloudEvents 1.0 envelope (`specversion`, `id`, `time`, `source`,
`subject`, `type`, `data`) or a flat object. A small mapping in the connector's TOML names where
each `inference_usage` column is, as a dotted path; columns it leaves out are looked for under
their own name (flat) or under `data.` (CloudEvents, with `id` and `time` for the request id and
time):

```toml
type = "usage_events"
path = "gateway/events/"            # .jsonl / .ndjson files (or .gz), a folder or a glob

[options]
provider = "anthropic"              # when the events do not name it
cached_tokens = "outside"           # the provider's input count leaves cache reads/writes out
required = ["model_id"]             # labels every event must carry (columns or tags)

[options.columns]                   # inference_usage column = path in the event
model = "data.model"
input_tokens = "data.usage.input_tokens"
cached_input_tokens = "data.usage.cache_read_input_tokens"
cache_write_tokens = "data.usage.cache_creation_input_tokens"
output_tokens = "data.usage.output_tokens"
model_id = "subject"

[options.tags]                      # tag = path
team = "data.team"
```

Events without a cost are priced from the project's price book at load (`roi.pricing`).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import polars as pl

from roi.connectors import register
from roi.connectors.base import FileConnector, SourceSample, changed_files
from roi.connectors.usage_rows import COUNTS, KINDS, TEXT, Counting, tags_json, usage_batch
from roi.errors import ConfigError
from roi.loading.jsonl import SUFFIXES, field_expr, read_json_lines, schema_of
from roi.loading.protocol import Batch, Extracted
from roi.progress import Progress
from roi.tables import INFERENCE_USAGE

COLUMNS = tuple(dict.fromkeys((*TEXT, *KINDS)))
_TOKEN_WORDS = ("tokens", "input", "output", "usage")


@dataclass(frozen=True)
class UsageEventOptions:
    """`[options]` of a `usage_events` connector."""

    form: Literal["auto", "cloudevents", "flat"] = "auto"
    columns: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    tags: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    provider: str | None = None  # when the events do not name it
    currency: str = "USD"  # of `cost`, when the events do not say
    cached_tokens: Counting = "inside"  # "outside": input leaves cache reads and writes out
    reasoning_tokens: Counting = "inside"  # "outside": output leaves reasoning tokens out
    required: tuple[str, ...] = ()  # columns or tags every event must carry
    chunk_mb: int = 64  # how much of a file is read at a time


def _is_cloudevent(document: Any) -> bool:
    return isinstance(document, dict) and "specversion" in document and "data" in document


def first_object(path: Path) -> Any:
    """The first line's JSON value (None for an empty file)."""
    opener: Any = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if line.strip():
                try:
                    return json.loads(line)
                except json.JSONDecodeError:
                    return None
    return None


@register
class UsageEvents(FileConnector):
    """JSON-lines usage events (CloudEvents or flat objects) mapped to inference_usage."""

    type_name = "usage_events"
    table = INFERENCE_USAGE
    description = "LLM usage events as JSON lines (CloudEvents or flat objects), by a mapping"
    suffixes = SUFFIXES
    Options = UsageEventOptions
    states_currency = True  # a cost in another currency than the project's needs a rate

    def __init__(self, config: Any, root: Path) -> None:
        super().__init__(config, root)
        options: UsageEventOptions = self.options
        unknown = [c for c in options.columns if c not in COLUMNS]
        if unknown:
            raise ConfigError(
                f"{config.file}: options.columns names {', '.join(map(repr, unknown))}, not "
                f"inference_usage columns; allowed: {', '.join(COLUMNS)}"
            )
        clash = set(options.tags) & set(COLUMNS)
        if clash:
            raise ConfigError(
                f"{config.file}: options.tags {', '.join(sorted(clash))} is a column's name; "
                "map it in options.columns or name the tag otherwise"
            )
        known = {*COLUMNS, *options.tags}
        for name in options.required:
            if name not in known:
                raise ConfigError(
                    f"{config.file}: options.required names {name!r}, which is neither a "
                    "column nor a tag of options.tags"
                )

    @classmethod
    def recognises(cls, sample: SourceSample) -> str | None:
        """A JSON-lines object with a model and token counts (or a CloudEvent whose data has)."""
        document = sample.document
        if not sample.path.name.endswith(SUFFIXES) or not isinstance(document, dict):
            return None
        body = document.get("data") if _is_cloudevent(document) else document
        if (
            isinstance(body, dict)
            and "model" in body
            and any(any(word in str(k).lower() for word in _TOKEN_WORDS) for k in body)
        ):
            kind = "CloudEvents" if _is_cloudevent(document) else "objects"
            return f"JSON lines of usage {kind} (a model and token counts)"
        return None

    def paths(self, cloudevents: bool) -> dict[str, str]:
        """Column (or tag) → dotted path, the mapping over the defaults of the form."""
        options: UsageEventOptions = self.options
        if cloudevents:
            defaults = {c: f"data.{c}" for c in COLUMNS} | {"request_id": "id", "ts": "time"}
        else:
            defaults = {c: c for c in COLUMNS}
        return {
            **defaults,
            **dict(options.columns),
            **{f"tag:{k}": v for k, v in options.tags.items()},
        }

    def extract(self, state: Mapping[str, Any] | None, progress: Progress) -> Extracted:
        """Every changed file, chunk by chunk (a batch per chunk)."""
        files = self.input_files()
        changed, fingerprints = changed_files(files, state, self.relative)

        def batches() -> Iterator[Batch]:
            for path in progress.track(changed, f"{self.config.name}: reading"):
                yield from self.read_batches(path, self.relative(path))

        return Extracted(
            batches=batches(),
            files=[self.relative(p) for p in changed],
            cursor={"files": fingerprints},
            skipped_files=len(files) - len(changed),
            replaces_files=True,
            read_ahead=True,  # the next chunk is read while the last is checked and priced
        )

    def read_file(self, path: Path, relative: str) -> Batch:
        """One file as one batch (small files; `extract` reads large ones in chunks)."""
        parts = list(self.read_batches(path, relative))
        return Batch(
            pl.concat([p.frame for p in parts], how="diagonal_relaxed"),
            pl.concat([p.rejects for p in parts]),
        )

    def read_batches(self, path: Path, relative: str) -> Iterator[Batch]:
        """The file's events as `inference_usage` rows, a batch per chunk."""
        options: UsageEventOptions = self.options
        form = options.form
        if form == "auto":
            form = "cloudevents" if _is_cloudevent(first_object(path)) else "flat"
        paths = self.paths(form == "cloudevents")
        try:
            schema = schema_of(paths)
        except ValueError as exc:
            raise ConfigError(f"{self.config.file}: options.columns: {exc}") from exc
        # Counts written as JSON numbers are read as such (the text read is the fallback).
        typed = schema_of(paths, {c: pl.Int64() for c in COUNTS})
        for chunk in read_json_lines(
            path,
            relative,
            schema,
            skip_bad=self.config.on_reject == "skip",
            chunk_bytes=options.chunk_mb * 1024 * 1024,
            typed=typed,
        ):
            yield self._rows(chunk.frame, chunk.rejects, paths)

    def _rows(self, raw: pl.DataFrame, bad: pl.DataFrame, paths: dict[str, str]) -> Batch:
        options: UsageEventOptions = self.options
        tags = {k[4:]: field_expr(v) for k, v in paths.items() if k.startswith("tag:")}
        frame = raw.select(
            *[field_expr(paths[c]).alias(c) for c in COLUMNS],
            tags_json(tags).alias("tags"),
            *[field_expr(paths[f"tag:{t}"]).alias(f"_tag_{t}") for t in options.tags],
            "source_file",
            "source_row",
        )
        if options.provider is not None:
            frame = frame.with_columns(provider=pl.coalesce("provider", pl.lit(options.provider)))
        required = [c if c in COLUMNS else f"_tag_{c}" for c in options.required]
        batch = usage_batch(
            frame,
            cached=options.cached_tokens,
            reasoning=options.reasoning_tokens,
            currency=options.currency,
            required=required,
            required_reason="required label is missing; every event must carry it (the "
            "connector's options.required)",
            trim=False,
        )
        rejects = batch.rejects.with_columns(pl.col("column").str.replace(r"^_tag_", ""))
        rows = batch.frame.drop(*[c for c in batch.frame.columns if c.startswith("_tag_")])
        return Batch(rows, pl.concat([bad, rejects]))


__all__ = ["UsageEventOptions", "UsageEvents"]
