"""GPU telemetry of the sample: DCGM exporter series from Prometheus and an nvidia-smi log.

The shared EKS cluster has two g6e.12xlarge nodes (4 × L40S each). Five models run pods on it,
two GPUs sat idle until the support assistant's vLLM deployment took one in August 2026, and
node 2 was drained on the days its savings-plan commitment went unused in the bill.
dcgm-exporter renamed its `Hostname` label to `hostname` in May 2026; the months after that
carry the new name, as a real upgrade would.

The demand-forecast trainer is a standalone g5.xlarge that logs `nvidia-smi --format=csv -l 900`
while it runs each night; each boot appends a new header line to the log.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np

from roi.sample.meters import NODE2_DOWN, SHARED_NODES
from roi.sample.portfolio import LAST_MONTH, TELEMETRY_FIRST_MONTH, months, next_month
from roi.sample.rng import rng_for

STEP_SECONDS = 3600
HOSTNAME_RENAMED = date(2026, 6, 1)  # first month scraped by the renamed exporter
DRIVER = "570.133.20"


@dataclass(frozen=True)
class GpuSlot:
    """One GPU of the shared cluster and the workload scheduled on it."""

    node: int  # 0 or 1
    index: int  # GPU index on the node
    workload: str | None
    namespace: str | None
    level: float  # mean GR_ENGINE_ACTIVE while busy
    memory_mib: float
    since: date | None = None  # first day the workload runs (idle before)


SLOTS = (
    GpuSlot(0, 0, "recsys-ranker", "recsys", 0.58, 30_500),
    GpuSlot(0, 1, "recsys-ranker", "recsys", 0.55, 30_200),
    GpuSlot(0, 2, "fraud-scorer", "payments-ml", 0.34, 9_100),
    GpuSlot(0, 3, "docx-layout", "lending-ml", 0.22, 22_400),
    GpuSlot(1, 0, "search-reranker", "digital-ml", 0.41, 14_300),
    GpuSlot(1, 1, "triage-bert", "health-ml", 0.16, 38_100),
    # The support assistant's self-hosted Llama (vLLM) took one of the idle GPUs in August 2026.
    GpuSlot(1, 2, "assist-vllm", "cs-genai", 0.47, 38_900, since=date(2026, 8, 1)),
    GpuSlot(1, 3, None, None, 0.0, 0),
)
GPU_MODEL = "NVIDIA L40S"


def _uuid(rng: np.random.Generator) -> str:
    h = "".join(f"{b:02x}" for b in rng.integers(0, 256, 16))
    return f"GPU-{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def _pod_suffix(
    rng: np.random.Generator, n: int, alphabet: str = "bcdfghjklmnpqrstvwxz2456789"
) -> str:
    return "".join(alphabet[i] for i in rng.integers(0, len(alphabet), n))


def _node_down(node: int, day: date) -> bool:
    return node == 1 and any(a <= day <= b for a, b in NODE2_DOWN)


def dcgm_month(seed: int, month: date) -> dict[str, dict[str, object]]:
    """Prometheus `query_range` responses (GR_ENGINE_ACTIVE and FB_USED) for one month."""
    ids = rng_for(seed, "dcgm-ids")
    uuids = [_uuid(ids) for _ in SLOTS]
    rng = rng_for(seed, f"dcgm-{month.isoformat()}")
    start = datetime.combine(month, datetime.min.time(), UTC)
    end = datetime.combine(next_month(month), datetime.min.time(), UTC)
    hours = int((end - start).total_seconds() // STEP_SECONDS)
    host_label = "hostname" if month >= HOSTNAME_RENAMED else "Hostname"
    # Deployments roll out once a month on a random day: new replica-set hash, new pod name.
    rollout = int(rng.integers(3, 26))
    pods: dict[str, tuple[str, str]] = {}
    for workload in sorted({s.workload for s in SLOTS if s.workload}):
        pods[workload] = (
            f"{workload}-{_pod_suffix(rng, 10)}-{_pod_suffix(rng, 5)}",
            f"{workload}-{_pod_suffix(rng, 10)}-{_pod_suffix(rng, 5)}",
        )
    activity: dict[str, list[dict[str, object]]] = {
        "DCGM_FI_PROF_GR_ENGINE_ACTIVE": [],
        "DCGM_FI_DEV_FB_USED": [],
    }
    for gpu, slot in enumerate(SLOTS):
        node_name = SHARED_NODES[slot.node][1]
        base_labels = {
            "gpu": str(slot.index),
            "UUID": uuids[gpu],
            "pci_bus_id": f"00000000:{0x38 + 0x10 * slot.index:02X}:00.0",
            "device": f"nvidia{slot.index}",
            "modelName": GPU_MODEL,
            host_label: node_name,
            "DCGM_FI_DRIVER_VERSION": DRIVER,
            "instance": f"10.42.{slot.node + 1}.{17 + 16 * slot.node}:9400",
            "job": "dcgm-exporter",
        }
        series: dict[tuple[str, str], dict[str, list[list[object]]]] = {}
        for h in range(hours):
            ts = start + timedelta(seconds=h * STEP_SECONDS)
            if _node_down(slot.node, ts.date()):
                continue
            if slot.workload and (slot.since is None or ts.date() >= slot.since):
                pod = pods[slot.workload][0 if ts.day < rollout else 1]
                diurnal = 0.65 + 0.35 * math.sin((ts.hour - 8) / 24 * 2 * math.pi)
                util = float(np.clip(slot.level * diurnal * rng.lognormal(0, 0.18), 0, 1))
                mem = slot.memory_mib * float(rng.uniform(0.93, 1.02))
                key = (pod, slot.namespace or "")
            else:
                util, mem, key = 0.0, float(rng.integers(0, 3)), ("", "")
            entry = series.setdefault(key, {"util": [], "mem": []})
            epoch = int(ts.timestamp())
            entry["util"].append([epoch, f"{util:.6f}".rstrip("0").rstrip(".") or "0"])
            entry["mem"].append([epoch, str(round(mem))])
        for (pod, namespace), values in series.items():
            labels = {
                **base_labels,
                "container": pod.rsplit("-", 2)[0] if pod else "",
                "namespace": namespace,
                "pod": pod,
            }
            for metric, points in (
                ("DCGM_FI_PROF_GR_ENGINE_ACTIVE", values["util"]),
                ("DCGM_FI_DEV_FB_USED", values["mem"]),
            ):
                activity[metric].append(
                    {"metric": {"__name__": metric, **labels}, "values": points}
                )
    return {
        metric: {"status": "success", "data": {"resultType": "matrix", "result": result}}
        for metric, result in activity.items()
    }


def dcgm_files(seed: int) -> dict[str, bytes]:
    """File name → JSON body, for every telemetry month."""
    out: dict[str, bytes] = {}
    for month in months(TELEMETRY_FIRST_MONTH, LAST_MONTH):
        for metric, body in dcgm_month(seed, month).items():
            name = f"{metric}_{month.strftime('%Y-%m')}.json"
            out[name] = json.dumps(body, separators=(",", ":")).encode("utf-8")
    return out


NVIDIA_SMI_QUERY = (
    "timestamp, index, uuid, name, utilization.gpu [%], utilization.memory [%], "
    "memory.used [MiB], memory.total [MiB], power.draw [W]"
)


def nvidia_smi_log(seed: int) -> bytes:
    """The demand-forecast trainer's nvidia-smi log for its last two months."""
    rng = rng_for(seed, "nvidia-smi")
    uuid = _uuid(rng)
    lines: list[str] = []
    day = date(LAST_MONTH.year, LAST_MONTH.month, 1) - timedelta(days=30)
    day = date(day.year, day.month, 1)
    end = next_month(LAST_MONTH)
    while day < end:
        lines.append(NVIDIA_SMI_QUERY)  # every boot starts a new `nvidia-smi -l` and its header
        boot = datetime.combine(day, datetime.min.time(), UTC) + timedelta(
            seconds=int(rng.integers(2, 40))
        )
        for i in range(32):  # 8 hours every 15 minutes
            ts = (
                boot
                + timedelta(seconds=900 * i)
                + timedelta(milliseconds=int(rng.integers(0, 999)))
            )
            loading = i < 2 or i > 29
            util = int(np.clip(rng.normal(12 if loading else 91, 6), 0, 100))
            mem_util = int(np.clip(util * rng.uniform(0.35, 0.5), 0, 100))
            mem = int(np.clip(rng.normal(4_100 if loading else 18_300, 400), 300, 23_028))
            power = (
                "[N/A]"
                if rng.random() < 0.01
                else f"{np.clip(rng.normal(60 + util * 1.4, 8), 25, 300):.2f} W"
            )
            stamp = ts.strftime("%Y/%m/%d %H:%M:%S.%f")[:-3]
            lines.append(
                f"{stamp}, 0, {uuid}, NVIDIA A10G, {util} %, {mem_util} %, {mem} MiB, "
                f"23028 MiB, {power}"
            )
        day += timedelta(days=1)
    return ("\n".join(lines) + "\n").encode("utf-8")
