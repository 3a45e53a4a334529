"""Billing deliveries: how a load of billing lines replaces what the warehouse holds.

Providers re-deliver whole billing periods. A *delivery* (one folder of part files) belongs to an
*export*, whose name comes from the provider's layout or the connector's `export` option, never
from the path it was read through. For each (provider, billing account, billing period, export)
the warehouse keeps the newest delivery, and inside a delivery each part file counts once:

- a newer delivery replaces the period's older one;
- an older delivery arriving later changes nothing (its partition is reported as kept);
- part files of one delivery loaded one at a time add up (a part replaces only itself), and a
  delivery read whole replaces every part stored for it (parts the provider dropped go too).

Two exports that hold the same billing period of one account are checked against each other,
so the same charges read through another route never count twice:

- no resource (or, for lines without one, service and charge category) of one sub-account is in
  both: two genuinely different exports (one per subscription, say), both count;
- every line of one is also in the other: it is the same data; the contained copy is dropped;
- otherwise: an error naming both sources and how to declare them.

The rules work on the `_cost_files` manifest (one row per stored Parquet file), inside the
load's transaction: an error leaves the warehouse as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from roi import warehouse
from roi.errors import ValidationFailed
from roi.loading.billing_files import BillingStaging
from roi.tables import COST_LINES
from roi.warehouse import Connection
from roi.warehouse.cost_store import expired_files, refresh_view, relation

ACCOUNT_PERIOD = ("provider", "billing_account_id", "billing_period_start")
PARTITION = COST_LINES.replace_by  # a billing period of one export, replaced whole
# A line's content, whatever file or load it came from: two exports holding the same charge
# write the same values here.
LINE_FINGERPRINT = (
    "sub_account_id",
    "charge_period_start",
    "charge_period_end",
    "charge_category",
    "charge_class",
    "service_name",
    "resource_id",
    "sku_id",
    "sku_price_id",
    "charge_description",
    "billed_cost",
    "effective_cost",
    "consumed_quantity",
    "pricing_quantity",
    "commitment_discount_id",
)
# What a line is a charge for: the same key in two exports means both bill the same thing.
CHARGE_KEY = (
    "hash(sub_account_id, coalesce(resource_id, service_name || '\x1f' || charge_category))"
)
CURRENT = "superseded_by IS NULL"


@dataclass(frozen=True)
class DeliveryOutcome:
    """What a billing load did: lines written, stored lines replaced, partitions kept as they
    were, and files no longer listed (to delete once the transaction has committed)."""

    written: int
    replaced: int
    kept: tuple[str, ...]
    removed_files: tuple[str, ...]


def _cols(alias: str, columns: tuple[str, ...]) -> str:
    return ", ".join(f'{alias}."{c}"' for c in columns)


def _on(left: str, right: str, columns: tuple[str, ...]) -> str:
    return " AND ".join(f'{left}."{c}" = {right}."{c}"' for c in columns)


def _label(row: tuple[object, ...]) -> str:
    provider, account, period = row[:3]
    return f"{provider} account {account} billing period {str(period)[:7]}"


def replace_deliveries(con: Connection, staging: BillingStaging, load_id: str) -> DeliveryOutcome:
    """Record the load's files, then keep only what the rules above keep; refresh the view.

    Raises:
        ValidationFailed: two exports hold overlapping charges of one account and period and
            neither holds all of the other's lines.
    """
    now = datetime.now(UTC)
    with warehouse.registered(con, "_staged_files", staging.manifest()):
        warehouse.execute(con, "INSERT INTO _cost_files BY NAME SELECT * FROM _staged_files")
    kept = _winning_deliveries(con, staging.data, load_id)
    # This load's files that do not win: stale partitions and older deliveries in the load.
    removed = [
        str(r[0])
        for r in warehouse.fetch_all(
            con,
            f"""DELETE FROM _cost_files c WHERE c.load_id = ? AND NOT EXISTS (
                    SELECT 1 FROM _win w WHERE {_on("c", "w", PARTITION)}
                    AND c.delivery = w.new_delivery)
                RETURNING file""",
            [load_id],
        )
    ]
    replaced = _supersede(
        con,
        f"""c.load_id <> ? AND c.{CURRENT} AND EXISTS (
                SELECT 1 FROM _win w WHERE {_on("c", "w", PARTITION)} AND (
                    c.delivery <> w.new_delivery OR w.whole OR EXISTS (
                        SELECT 1 FROM _cost_files p WHERE p.load_id = ?
                        AND {_on("p", "w", PARTITION)} AND p.delivery = w.new_delivery
                        AND p.part = c.part)))""",
        [load_id, load_id],
        load_id,
        now,
    )
    replaced += _settle_exports(con, staging.data, load_id, kept, removed, now)
    removed += expired_files(con, now)
    written = int(
        warehouse.fetch_one(
            con, "SELECT coalesce(sum(lines), 0) FROM _cost_files WHERE load_id = ?", [load_id]
        )[0]
    )
    for table in ("_new", "_old", "_win"):
        warehouse.execute(con, f"DROP TABLE {table}")
    refresh_view(con, staging.data)
    return DeliveryOutcome(written, replaced, tuple(kept), tuple(removed))


def _winning_deliveries(con: Connection, data: Path, load_id: str) -> list[str]:
    """Temp tables `_new` (this load's newest delivery per partition), `_old` (the stored one)
    and `_win` (the partitions this load wins); the partitions kept as stored, as text."""
    keys = ", ".join(f'"{k}"' for k in PARTITION)
    warehouse.execute(
        con,
        f"""CREATE OR REPLACE TEMP TABLE _new AS
            SELECT {keys}, max(delivery) AS new_delivery FROM _cost_files WHERE load_id = ?
            GROUP BY ALL""",
        [load_id],
    )
    _check_reissues(con, data, load_id)
    warehouse.execute(
        con,
        f"""CREATE OR REPLACE TEMP TABLE _old AS
            SELECT {_cols("c", PARTITION)}, max(c.delivery) AS old_delivery
            FROM _cost_files c SEMI JOIN _new n ON {_on("c", "n", PARTITION)}
            WHERE c.load_id <> ? AND c.{CURRENT} GROUP BY ALL""",
        [load_id],
    )
    stale = warehouse.fetch_all(
        con,
        f"""SELECT {keys}, n.new_delivery, o.old_delivery FROM _new n JOIN _old o USING ({keys})
            WHERE o.old_delivery > n.new_delivery ORDER BY ALL""",
    )
    kept = [
        f"{_label(row)}, export {row[3]!r}: delivery {row[4]!r} is older than {row[5]!r} (stored)"
        for row in stale
    ]
    warehouse.execute(
        con,
        f"""CREATE OR REPLACE TEMP TABLE _win AS
            SELECT n.*, (SELECT bool_or(f.whole_delivery) FROM _cost_files f
                         WHERE f.load_id = ? AND {_on("f", "n", PARTITION)}
                         AND f.delivery = n.new_delivery) AS whole
            FROM _new n
            ANTI JOIN _old o ON {_on("n", "o", PARTITION)} AND o.old_delivery > n.new_delivery""",
        [load_id],
    )
    return kept


def _check_reissues(con: Connection, data: Path, load_id: str) -> None:
    """A delivery only replaces another of its export when it re-issues the same charges.

    Two deliveries of one export and period that share no charge (no resource, or service and
    charge category, of a sub-account in common) are not a re-issue of each other: they are two
    exports under one name (say, `[options] export` over a folder of two subscriptions' exports),
    and keeping only the newer would drop the other's money without a word.

    Raises:
        ValidationFailed: naming both deliveries and how to name the exports apart.
    """
    keys = ", ".join(f'"{k}"' for k in PARTITION)
    deliveries = warehouse.fetch_all(
        con,
        f"""WITH candidates AS (
                SELECT {_cols("c", PARTITION)}, c.delivery, min(c.source_file) AS example
                FROM _cost_files c SEMI JOIN _new n ON {_on("c", "n", PARTITION)}
                WHERE c.load_id = ? OR c.{CURRENT} GROUP BY ALL),
            ranked AS (
                SELECT *, max(delivery) OVER (PARTITION BY {keys}) AS newest FROM candidates)
            SELECT {keys}, delivery, example, newest,
                   (SELECT min(w.example) FROM ranked w
                    WHERE {_on("w", "r", PARTITION)} AND w.delivery = r.newest)
            FROM ranked r WHERE delivery <> newest ORDER BY ALL""",
        [load_id],
    )
    for *partition, delivery, example, newest, newest_example in deliveries:
        where = " AND ".join(f'"{c}" = ?' for c in PARTITION)
        files = [
            [
                str(r[0])
                for r in warehouse.fetch_all(
                    con,
                    f"SELECT file FROM _cost_files WHERE {where} AND delivery = ? "
                    f"AND (load_id = ? OR {CURRENT})",
                    [*partition, version, load_id],
                )
            ]
            for version in (delivery, newest)
        ]
        if not _share_charges(con, relation(data, files[0]), relation(data, files[1])):
            raise ValidationFailed(
                f"{newest_example} (delivery {newest!r}) would replace {example} (delivery "
                f"{delivery!r}) as {_label(tuple(partition))}, export {partition[3]!r}, but the "
                "two share no charge, so one is not a re-issue of the other: they are two "
                "exports (one per subscription or resource group, say); give each its own "
                '[options] export = "<name>", or remove the option to name them by their folders'
            )


def _supersede(
    con: Connection, condition: str, params: list[object], load_id: str, now: datetime
) -> int:
    """Mark the current files matching `condition` superseded; return their lines."""
    rows = warehouse.fetch_all(
        con,
        f"""UPDATE _cost_files c SET superseded_by = ?, superseded_at = ?
            WHERE {condition} RETURNING lines""",
        [load_id, now, *params],
    )
    return sum(int(r[0]) for r in rows)


def _files(con: Connection, partition: tuple[object, ...]) -> list[str]:
    where = " AND ".join(f'"{c}" = ?' for c in PARTITION)
    return [
        str(r[0])
        for r in warehouse.fetch_all(
            con, f"SELECT file FROM _cost_files WHERE {where} AND {CURRENT}", list(partition)
        )
    ]


def _settle_exports(
    con: Connection,
    data: Path,
    load_id: str,
    kept: list[str],
    removed: list[str],
    now: datetime,
) -> int:
    """Check every other export holding a period this load wrote; return stored lines dropped."""
    period_keys = ", ".join(f'"{k}"' for k in ACCOUNT_PERIOD)
    present = warehouse.fetch_all(
        con,
        f"""WITH touched AS (SELECT DISTINCT {period_keys} FROM _win),
                 exports AS (
                    SELECT {_cols("c", PARTITION)}, bool_or(c.load_id = ?) AS is_new,
                           min(c.source_file) AS example, min(c.load_id) AS first_load
                    FROM _cost_files c SEMI JOIN touched k ON {_on("c", "k", ACCOUNT_PERIOD)}
                    WHERE c.{CURRENT} GROUP BY ALL)
            SELECT a.provider, a.billing_account_id, a.billing_period_start, a.export,
                   a.example, b.export, b.example, b.is_new, b.first_load
            FROM exports a JOIN exports b USING ({period_keys})
            WHERE a.is_new AND a.export <> b.export ORDER BY ALL""",
        [load_id],
    )
    dropped: set[tuple[object, ...]] = set()
    replaced = 0
    for (
        provider,
        account,
        period,
        export,
        example,
        other,
        other_example,
        other_new,
        first,
    ) in present:
        mine = (provider, account, period, export)
        theirs = (provider, account, period, other)
        if mine in dropped or theirs in dropped:
            continue
        mine_rel = relation(data, _files(con, mine))
        theirs_rel = relation(data, _files(con, theirs))
        if not _share_charges(con, mine_rel, theirs_rel):
            continue  # two genuinely different exports of one account: both count
        if _contained(con, mine_rel, theirs_rel):
            # Every line is already there under the other export: the same data again.
            where = " AND ".join(f'"{c}" = ?' for c in PARTITION)
            removed.extend(
                str(r[0])
                for r in warehouse.fetch_all(
                    con,
                    f"DELETE FROM _cost_files WHERE {where} AND load_id = ? RETURNING file",
                    [*mine, load_id],
                )
            )
            dropped.add(mine)
            kept.append(
                f"{_label(mine)}, export {export!r}: the same lines are already loaded from "
                f"export {other!r} ({other_example})"
            )
        elif _contained(con, theirs_rel, mine_rel):
            # The other export's lines are all here too: this one replaces it.
            where = " AND ".join(f'c."{c}" = ?' for c in PARTITION)
            replaced += _supersede(con, f"{where} AND c.{CURRENT}", list(theirs), load_id, now)
            dropped.add(theirs)
        else:
            source = "this load" if other_new else f"load {first}"
            raise ValidationFailed(
                f"{example} and {other_example} ({source}) both hold charges of "
                f"{_label(mine)} but neither holds all of the other's lines, so counting both "
                "would count the same charges twice; if they are the same export, give both "
                'the same [options] export = "<name>" (roi ingest: --option export=<name>) and '
                "the newer delivery replaces the older; if they are not, load only one of them"
            )
    return replaced


def _share_charges(con: Connection, mine: str, theirs: str) -> bool:
    return bool(
        warehouse.fetch_one(
            con,
            f"""SELECT count(*) > 0 FROM (
                    SELECT DISTINCT {CHARGE_KEY} FROM {mine}
                    INTERSECT SELECT DISTINCT {CHARGE_KEY} FROM {theirs})""",
        )[0]
    )


def _contained(con: Connection, inner: str, outer: str) -> bool:
    """Whether every line of `inner` (counted with repeats) is also a line of `outer`."""
    fingerprint = "hash(" + ", ".join(f'"{c}"' for c in LINE_FINGERPRINT) + ")"
    missing = warehouse.fetch_one(
        con,
        f"""WITH a AS (SELECT {fingerprint} AS fp, count(*) AS n FROM {inner} GROUP BY 1),
                 b AS (SELECT {fingerprint} AS fp, count(*) AS n FROM {outer} GROUP BY 1)
            SELECT count(*) FROM a LEFT JOIN b USING (fp) WHERE b.n IS NULL OR a.n > b.n""",
    )[0]
    return int(missing) == 0
