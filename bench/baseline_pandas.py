"""The same attribution written plainly in pandas: the baseline bench_attribution.py compares to.

Usage: python bench/baseline_pandas.py WAREHOUSE PROJECT_DIR

Reads the billing lines' Parquet files and the usage tables into pandas, then: model selectors
line by line (tag, then resource pattern, then sub-account; priority, then id), the project's
pools (GPU-hours from gpu_usage, reported cost from inference_usage, direct cost), unused
commitments to idle, the rest unallocated. Splits are plain float shares: the kind of code a
data team writes first.
"""

from __future__ import annotations

import fnmatch
import json
import sys
import tomllib
from pathlib import Path
from typing import NamedTuple

import duckdb
import pandas as pd


class Selector(NamedTuple):
    """One model selector; selectors sort in match order (kind, then priority, then model)."""

    strength: int  # 0 tag, 1 resource pattern, 2 sub-account
    priority: int
    model_id: str
    kind: str
    key: str | None  # the tag key of a tag selector
    spec: str | list[str]  # tag values, a resource-id regex or sub-accounts


def main() -> None:
    warehouse, project = Path(sys.argv[1]), Path(sys.argv[2])
    con = duckdb.connect(str(warehouse), read_only=True)
    data = warehouse.with_name(warehouse.name + ".data")
    files = [
        str(data / f)
        for (f,) in con.execute(
            "SELECT file FROM _cost_files WHERE superseded_by IS NULL"
        ).fetchall()
    ]
    lines = pd.read_parquet(
        files,
        columns=[
            "billing_period_start",
            "provider",
            "sub_account_id",
            "resource_id",
            "service_name",
            "charge_category",
            "commitment_discount_status",
            "billing_currency",
            "effective_cost",
            "tags",
        ],
    )
    lines["month"] = (
        lines["billing_period_start"].dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("M")
    )
    lines["amount"] = lines["effective_cost"].astype(float)
    lines["tags"] = lines["tags"].map(
        lambda kv: {k.lower(): str(v).lower() for k, v in kv} if kv is not None else {}
    )

    models = [tomllib.loads(p.read_text()) for p in sorted((project / "models").glob("*.toml"))]
    pools = {
        p.stem: tomllib.loads(p.read_text()) for p in sorted((project / "pools").glob("*.toml"))
    }

    # Direct: every model's selectors, strongest kind first, then priority, then id.
    candidates: list[Selector] = []
    for m in models:
        sel = m.get("selectors", {})
        prio = sel.get("priority", 100)
        for key, values in sel.get("tags", {}).items():
            values = [values] if isinstance(values, str) else values
            candidates.append(
                Selector(0, prio, m["model_id"], "tag", key.lower(), [v.lower() for v in values])
            )
        if sel.get("resource_ids"):
            rx = "|".join(fnmatch.translate(p) for p in sel["resource_ids"])
            candidates.append(Selector(1, prio, m["model_id"], "resource", None, rx))
        if sel.get("sub_accounts"):
            candidates.append(
                Selector(2, prio, m["model_id"], "sub_account", None, sel["sub_accounts"])
            )
    candidates.sort()
    # Each tag key the selectors and pools read, as a column of its own (read once per line).
    keys = {c.key for c in candidates if c.key is not None} | {
        k.lower() for p in pools.values() for k in p["claims"].get("tags", {})
    }
    tag = {k: lines["tags"].map(lambda t, k=k: t.get(k)) for k in sorted(keys)}
    lines["model_id"] = None
    for _, _, model_id, kind, key, spec in candidates:
        free = lines["model_id"].isna()
        if key is not None:  # kind == "tag"
            hit = tag[key].isin(spec)
        elif kind == "resource":
            hit = lines["resource_id"].fillna("").str.match(spec)
        else:
            hit = lines["sub_account_id"].isin(spec)
        lines.loc[free & hit, "model_id"] = model_id
    lines.loc[lines["model_id"].notna(), "basis"] = "direct"

    # Pools: claimed lines split by usage.
    gpu = con.execute("SELECT * FROM gpu_usage").df()
    usage = con.execute("SELECT ts, feature, model_id, cost FROM inference_usage").df()
    out = [lines[lines["model_id"].notna()][["month", "model_id", "amount"]]]
    rest = lines[lines["model_id"].isna()].copy()
    features = {
        f: m["model_id"] for m in models for f in m.get("selectors", {}).get("llm_features", [])
    }
    workloads = {
        w: m["model_id"] for m in models for w in m.get("selectors", {}).get("gpu_workloads", [])
    }
    direct = out[0].groupby(["month", "model_id"])["amount"].sum()
    for _, pool in sorted(pools.items(), key=lambda kv: (kv[1].get("priority", 100), kv[0])):
        claims = pool["claims"]
        hit = pd.Series(False, index=rest.index)
        for tag_key, values in claims.get("tags", {}).items():
            values = [values] if isinstance(values, str) else values
            key = tag_key.lower()
            hit |= rest["tags"].map(lambda t, k=key: t.get(k)).isin([v.lower() for v in values])
        for pattern in claims.get("resource_ids", []):
            hit |= rest["resource_id"].fillna("").str.match(fnmatch.translate(pattern))
        claimed, rest = rest[hit], rest[~hit]
        if pool["basis"] == "gpu_hours":
            g = gpu[gpu["cluster"].isin(pool["usage"]["clusters"])].copy()
            g["month"] = (
                g["interval_start"].dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("M")
            )
            g["hours"] = (g["interval_end"] - g["interval_start"]).dt.total_seconds() / 3600
            g["target"] = g["workload"].map(workloads).fillna("__unallocated__")
            g.loc[g["gpu_share"] == 0, "target"] = "__idle__"
            g["w"] = g["hours"] * g["gpu_share"].where(g["gpu_share"] > 0, 1.0)
            weights = g.groupby(["month", "target"])["w"].sum()
        elif pool["basis"] == "reported_cost":
            u = usage.copy()
            u["month"] = u["ts"].dt.tz_convert("UTC").dt.tz_localize(None).dt.to_period("M")
            u["target"] = u["model_id"].fillna(u["feature"].map(features)).fillna("__unallocated__")
            weights = u.groupby(["month", "target"])["cost"].sum().astype(float)
        else:  # direct_cost
            weights = direct
        for month, part in claimed.groupby("month"):
            total = part["amount"].sum()
            if month not in weights.index.get_level_values(0):
                out.append(
                    pd.DataFrame(
                        {"month": [month], "model_id": ["__unallocated__"], "amount": [total]}
                    )
                )
                continue
            w = weights.loc[month]
            shares = w / w.sum()
            out.append(
                pd.DataFrame(
                    {"month": month, "model_id": shares.index, "amount": shares.values * total}
                )
            )
    idle = rest["commitment_discount_status"] == "Unused"
    out.append(rest[idle].assign(model_id="__idle__")[["month", "model_id", "amount"]])
    out.append(rest[~idle].assign(model_id="__unallocated__")[["month", "model_id", "amount"]])
    result = pd.concat(out).groupby(["month", "model_id"])["amount"].sum()
    print(json.dumps({"rows": len(result), "total": float(result.sum())}))


if __name__ == "__main__":
    main()
