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
- every line of one is also in the other: it is the same data, already loaded; the contained
  copy is dropped;
- otherwise: an error naming both sources and how to declare them.

Everything runs inside the load's transaction: an error leaves the warehouse as it was.
"""

from __future__ import annotations

from dataclasses import dataclass

from roi import warehouse
from roi.connectors.base import TableSpec
from roi.connectors.staging import Staging
from roi.connectors.writers import quoted, select_list, staged_columns
from roi.errors import ValidationFailed
from roi.warehouse import Connection

ACCOUNT_PERIOD = ("provider", "billing_account_id", "billing_period_start")
PARTITION = (*ACCOUNT_PERIOD, "export")
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
PART = r"regexp_extract(source_file, '[^/]+$')"
STORED_PART = r"regexp_extract(t.source_file, '[^/]+$')"
WHOLE_DELIVERY = "_whole_delivery"  # staged flag: the connector read every file of the folder


@dataclass(frozen=True)
class DeliveryOutcome:
    """What a billing load did: rows written, stored rows replaced, partitions left as stored."""

    written: int
    replaced: int
    kept: tuple[str, ...]


def _cols(alias: str, columns: tuple[str, ...]) -> str:
    return ", ".join(f'{alias}."{c}"' for c in columns)


def _on(left: str, right: str, columns: tuple[str, ...]) -> str:
    return " AND ".join(f'{left}."{c}" = {right}."{c}"' for c in columns)


def _label(row: tuple[object, ...]) -> str:
    provider, account, period = row[:3]
    month = str(period)[:7]
    return f"{provider} account {account} billing period {month}"


def replace_deliveries(
    con: Connection, spec: TableSpec, staging: Staging, load_id: str
) -> DeliveryOutcome:
    """Insert the staged billing lines, then keep only what the rules above keep.

    Raises:
        ValidationFailed: two exports hold overlapping charges of one account and period and
            neither holds all of the other's lines.
    """
    t = f'"{spec.name}"'
    columns = warehouse.table_columns(con, spec.name)
    available = staged_columns(con, staging)
    names, exprs = select_list(columns, available)
    warehouse.execute(
        con,
        f"INSERT INTO {t} ({quoted(names)}) SELECT {exprs} FROM {staging.relation()} s",
        [staging.glob],
    )
    keys = quoted(list(PARTITION))
    whole = f"bool_or({WHOLE_DELIVERY})" if WHOLE_DELIVERY in available else "false"
    # This load's partitions and their newest delivery (an older one in the same load loses).
    warehouse.execute(
        con,
        f"""CREATE OR REPLACE TEMP TABLE _new AS
            SELECT {keys}, max(delivery) AS new_delivery FROM {t} WHERE _load_id = ?
            GROUP BY ALL""",
        [load_id],
    )
    warehouse.execute(
        con,
        f"""CREATE OR REPLACE TEMP TABLE _new_parts AS
            SELECT {keys}, delivery, {PART} AS part, {whole} AS whole
            FROM (SELECT DISTINCT {keys}, delivery, source_file
                  {", " + WHOLE_DELIVERY if WHOLE_DELIVERY in available else ""}
                  FROM {staging.relation()}) GROUP BY ALL""",
        [staging.glob],
    )
    warehouse.execute(
        con,
        f"""CREATE OR REPLACE TEMP TABLE _old AS
            SELECT {_cols("t", PARTITION)}, max(t.delivery) AS old_delivery
            FROM {t} t SEMI JOIN _new n ON {_on("t", "n", PARTITION)}
            WHERE t._load_id <> ? GROUP BY ALL""",
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
            SELECT n.*, coalesce(p.whole, false) AS whole FROM _new n
            LEFT JOIN (SELECT {keys}, delivery, bool_or(whole) AS whole FROM _new_parts
                       GROUP BY ALL) p
              ON {_on("n", "p", PARTITION)} AND p.delivery = n.new_delivery
            ANTI JOIN _old o ON {_on("n", "o", PARTITION)} AND o.old_delivery > n.new_delivery""",
    )
    # This load's rows that do not win: stale partitions and older deliveries of the load.
    warehouse.execute(
        con,
        f"""DELETE FROM {t} t WHERE t._load_id = ? AND NOT EXISTS (
                SELECT 1 FROM _win w WHERE {_on("t", "w", PARTITION)}
                AND t.delivery = w.new_delivery)""",
        [load_id],
    )
    replaced = int(
        warehouse.fetch_one(
            con,
            f"""DELETE FROM {t} t USING _win w WHERE {_on("t", "w", PARTITION)}
                AND t._load_id <> ? AND (
                    t.delivery <> w.new_delivery OR w.whole OR EXISTS (
                        SELECT 1 FROM _new_parts p WHERE {_on("p", "w", PARTITION)}
                        AND p.delivery = w.new_delivery AND p.part = {STORED_PART}))""",
            [load_id],
        )[0]
    )
    replaced += _settle_exports(con, t, load_id, kept)
    written = int(
        warehouse.fetch_one(con, f"SELECT count(*) FROM {t} WHERE _load_id = ?", [load_id])[0]
    )
    for table in ("_new", "_new_parts", "_old", "_win"):
        warehouse.execute(con, f"DROP TABLE {table}")
    return DeliveryOutcome(written, replaced, tuple(kept))


def _settle_exports(con: Connection, t: str, load_id: str, kept: list[str]) -> int:
    """Check every other export holding a period this load wrote; return stored rows dropped."""
    period_keys = quoted(list(ACCOUNT_PERIOD))
    present = warehouse.fetch_all(
        con,
        f"""WITH touched AS (SELECT DISTINCT {period_keys} FROM _win),
                 exports AS (
                    SELECT {_cols("t", PARTITION)}, bool_or(t._load_id = ?) AS is_new,
                           min(t.source_file) AS example, min(t._load_id) AS first_load
                    FROM {t} t SEMI JOIN touched k ON {_on("t", "k", ACCOUNT_PERIOD)}
                    GROUP BY ALL)
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
        other_load,
    ) in present:
        mine = (provider, account, period, export)
        theirs = (provider, account, period, other)
        if mine in dropped or theirs in dropped:
            continue
        if not _share_charges(con, t, mine, theirs):
            continue  # two genuinely different exports of one account: both count
        if _contained(con, t, mine, theirs):
            # Every line is already there under the other export: the same data again.
            _delete(con, t, mine)
            dropped.add(mine)
            kept.append(
                f"{_label(mine)}, export {export!r}: the same lines are already loaded from "
                f"export {other!r} ({other_example})"
            )
        elif _contained(con, t, theirs, mine):
            # The other export's lines are all here too: this one replaces it.
            replaced += _delete(con, t, theirs)
            dropped.add(theirs)
        else:
            source = "this load" if other_new else f"load {other_load}"
            raise ValidationFailed(
                f"{example} and {other_example} ({source}) both hold charges of "
                f"{_label(mine)} but neither holds all of the other's lines, so counting both "
                "would count the same charges twice; if they are the same export, give both "
                'the same [options] export = "<name>" (roi ingest: --option export=<name>) and '
                "the newer delivery replaces the older; if they are not, load only one of them"
            )
    return replaced


def _where(partition: tuple[object, ...]) -> tuple[str, list[object]]:
    return " AND ".join(f'"{c}" = ?' for c in PARTITION), list(partition)


def _share_charges(
    con: Connection, t: str, mine: tuple[object, ...], theirs: tuple[object, ...]
) -> bool:
    where, params = _where(mine)
    other_where, other_params = _where(theirs)
    return bool(
        warehouse.fetch_one(
            con,
            f"""SELECT count(*) > 0 FROM (
                    SELECT DISTINCT {CHARGE_KEY} FROM {t} WHERE {where}
                    INTERSECT SELECT DISTINCT {CHARGE_KEY} FROM {t} WHERE {other_where})""",
            [*params, *other_params],
        )[0]
    )


def _contained(
    con: Connection, t: str, inner: tuple[object, ...], outer: tuple[object, ...]
) -> bool:
    """Whether every line of `inner` (counted with repeats) is also a line of `outer`."""
    fingerprint = "hash(" + ", ".join(f'"{c}"' for c in LINE_FINGERPRINT) + ")"
    where, params = _where(inner)
    other_where, other_params = _where(outer)
    missing = warehouse.fetch_one(
        con,
        f"""WITH a AS (SELECT {fingerprint} AS fp, count(*) AS n FROM {t} WHERE {where}
                       GROUP BY 1),
                 b AS (SELECT {fingerprint} AS fp, count(*) AS n FROM {t} WHERE {other_where}
                       GROUP BY 1)
            SELECT count(*) FROM a LEFT JOIN b USING (fp) WHERE b.n IS NULL OR a.n > b.n""",
        [*params, *other_params],
    )[0]
    return int(missing) == 0


def _delete(con: Connection, t: str, partition: tuple[object, ...]) -> int:
    where, params = _where(partition)
    return int(warehouse.fetch_one(con, f"DELETE FROM {t} WHERE {where}", params)[0])
