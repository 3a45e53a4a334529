"""Nothing changed, nothing recomputed: the key of what a derived result was computed from.

The value tables, a standing scenario run and a rendered report are functions of the loads
(`_loads`: which, and whether forgotten), the attributions of each month
(`_attributed_months`), the project's definitions (models, pools, settings) and roi's version.
`inputs_key` digests exactly those, by id (no table scan, so checking costs milliseconds); a
result stored under the same key is reused by `roi run` instead of being computed again.
`_reuse` holds the key each result was last computed from (reports keep theirs beside the
files, so that a reading command writes nothing to the warehouse).
"""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime

from roi import __version__, warehouse
from roi.config import ProjectConfig
from roi.warehouse import Connection

_STATE = """
SELECT (SELECT coalesce(string_agg(load_id || ':' || status, ',' ORDER BY load_id), '')
        FROM _loads),
       (SELECT coalesce(string_agg(month::VARCHAR || ':' || attribution_id, ','
                                   ORDER BY month), '')
        FROM _attributed_months)
"""


def definitions(project: ProjectConfig) -> str:
    """The project's definitions that results are computed from (not its connectors, which
    act through the loads, nor its reports, which are keyed per report)."""
    return repr(
        (
            project.project,
            project.attribution,
            project.finance,
            project.models,
            project.pools,
            project.risk,
        )
    )


def inputs_key(con: Connection, project: ProjectConfig, *parts: object) -> str:
    """A digest of the loads, the attributions, the definitions, roi's version and `parts`
    (what else the result depends on: its kind and options)."""
    loads, months = warehouse.fetch_one(con, _STATE)
    # Paths inside the project count from its folder: a project moved or copied elsewhere
    # (another checkout, a shared drive) reuses what it computed.
    here = f"{project.root}{os.sep}"
    digest = hashlib.sha256()
    for part in (__version__, loads, months, definitions(project), *map(repr, parts)):
        digest.update(str(part).replace(here, f"<project>{os.sep}").encode("utf-8"))
        digest.update(b"\x00")
    return digest.hexdigest()[:32]


def reusable(con: Connection, product: str, key: str) -> str | None:
    """The stored result of `product` (a run id, or "" when it has none) when it was computed
    from `key`; else None."""
    rows = warehouse.fetch_all(
        con,
        "SELECT coalesce(result, '') FROM _reuse WHERE product = ? AND inputs_key = ?",
        [product, key],
    )
    return str(rows[0][0]) if rows else None


def remember(con: Connection, product: str, key: str, result: str | None = None) -> None:
    """Record that `product` was computed from `key` (with its result, e.g. a run id)."""
    warehouse.execute(
        con,
        "INSERT OR REPLACE INTO _reuse VALUES (?, ?, ?, ?)",
        [product, key, result, datetime.now(UTC)],
    )
