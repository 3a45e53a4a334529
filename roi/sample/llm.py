"""LLM traffic of the sample: LiteLLM spend logs and the daily token totals the clouds bill.

Three products call LLMs through one LiteLLM proxy: the support assistant and the claims
summarizer (Azure OpenAI, one shared account) and document extraction (Claude on Bedrock). From
August 2026 the support assistant also sends simple questions to a self-hosted Llama on vLLM
(the GPU cluster): LiteLLM logs those at zero spend, and no cloud bills them per token.
Spend logs are written for the last months only (LiteLLM's table is pruned); the billed token
volumes cover every month, and in the logged months they equal the logged tokens plus the few
percent of traffic that bypasses the proxy.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import polars as pl

from roi.sample.meters import LLM_PRICES
from roi.sample.portfolio import LAST_MONTH, LLM_LOG_FIRST_MONTH, MODELS_BY_ID, live, next_month
from roi.sample.rng import rng_for

BYPASS_SHARE = 0.03  # traffic that reaches the provider without going through LiteLLM
SELF_HOSTED_MODEL = "meta-llama/Llama-3.1-8B-Instruct"
VLLM_SINCE = date(2026, 8, 1)
VLLM_BASE = "http://assist-vllm.cs-genai.svc.cluster.local:8000/v1"


def running(feature: LlmFeature, day: date) -> list[tuple[str, str, float, date | None]]:
    """The feature's deployments serving on `day`, their shares summing to 1."""
    active = [d for d in feature.deployments if d[3] is None or day >= d[3]]
    total = sum(d[2] for d in active)
    return [(alias, model, share / total, since) for alias, model, share, since in active]


@dataclass(frozen=True)
class LlmFeature:
    """One product's LLM traffic."""

    feature: str
    model_id: str
    key_alias: str
    team_alias: str
    # (deployment alias, provider model, share, first day or None): on a day, the deployments
    # running share the traffic in proportion to their shares.
    deployments: tuple[tuple[str, str, float, date | None], ...]
    requests_per_day: float  # at the end of the sample window
    prompt_tokens: float  # mean prompt tokens, cached ones included
    completion_tokens: float
    cache_read_share: float  # share of prompt tokens read from the provider's prompt cache
    cache_write_share: float  # Anthropic only: share written to the cache
    weekday_only: bool = False


FEATURES: tuple[LlmFeature, ...] = (
    LlmFeature(
        "support-assistant",
        "support-assistant",
        "support-assistant-prod",
        "customer-service",
        (
            ("support-gpt-4o-mini", "gpt-4o-mini", 0.55, None),
            ("support-gpt-4o", "gpt-4o", 0.45, None),
            # From August 2026 simple questions go to a self-hosted Llama on the GPU cluster.
            ("support-llama-vllm", SELF_HOSTED_MODEL, 0.6, VLLM_SINCE),
        ),
        290.0,
        5_200.0,
        380.0,
        0.55,
        0.0,
    ),
    LlmFeature(
        "doc-extraction",
        "document-extraction",
        "docx-pipeline",
        "lending-ml",
        (
            ("docx-sonnet", "anthropic.claude-3-5-sonnet-20241022-v2:0", 0.7, None),
            ("docx-haiku", "anthropic.claude-3-haiku-20240307-v1:0", 0.3, None),
        ),
        110.0,
        9_000.0,
        900.0,
        0.30,
        0.05,
        True,
    ),
    LlmFeature(
        "claims-summary",
        "claims-summarizer",
        "claims-pilot",
        "health-analytics",
        (("claims-gpt-4o", "gpt-4o", 1.0, None),),
        45.0,
        7_000.0,
        600.0,
        0.20,
        0.0,
        True,
    ),
)


def _volume(feature: LlmFeature, day: date) -> float:
    """Expected requests on `day`: ramping up over the first year after launch."""
    model = MODELS_BY_ID[feature.model_id]
    if not live(model, day):
        return 0.0
    age_days = (day - model.launched).days
    ramp = min(1.0, 0.35 + age_days / 540)
    if feature.weekday_only and day.weekday() >= 5:
        return feature.requests_per_day * ramp * 0.15
    return feature.requests_per_day * ramp


def _hex(rng: np.random.Generator, n: int) -> str:
    return "".join(f"{b:02x}" for b in rng.integers(0, 256, n // 2))


def spend_logs(seed: int) -> pl.DataFrame:
    """Every request of the logged months, as rows of LiteLLM's `LiteLLM_SpendLogs`."""
    rng = rng_for(seed, "litellm-spend-logs")
    rows: list[dict[str, object]] = []
    day = LLM_LOG_FIRST_MONTH
    end = next_month(LAST_MONTH)
    keys = {f.feature: hashlib.sha256(f"sk-{f.key_alias}".encode()).hexdigest() for f in FEATURES}
    teams = {f.feature: _hex(rng_for(seed, f"team-{f.team_alias}"), 32) for f in FEATURES}
    while day < end:
        for feature in FEATURES:
            n = int(rng.poisson(_volume(feature, day)))
            for _ in range(n):
                rows.append(
                    _request(rng, feature, day, keys[feature.feature], teams[feature.feature])
                )
        day += timedelta(days=1)
    rows.sort(key=lambda r: str(r["startTime"]))
    return pl.DataFrame(rows, infer_schema_length=None)


@dataclass(frozen=True)
class _Call:
    """One request's draws: the deployment that served it, when, its tokens and timings."""

    alias: str
    model: str  # the provider's model name
    provider: str
    start: datetime
    failed: bool
    prompt: int
    completion: int
    cached: int
    written: int
    spend: float
    duration_ms: int
    first_token_ms: int


def _draw_call(rng: np.random.Generator, feature: LlmFeature, day: date) -> _Call:
    """Draw one request of `feature` on `day` (the draws' order fixes the sample's bytes)."""
    deployments = running(feature, day)
    shares = np.array([d[2] for d in deployments])
    alias, provider_model = deployments[int(rng.choice(len(shares), p=shares))][:2]
    provider, p_in, p_cached, p_write, p_out = LLM_PRICES[provider_model]
    hour = float(np.clip(rng.normal(13.0, 3.2), 0, 23.99))
    start = datetime.combine(day, time(), UTC) + timedelta(hours=hour)
    failed = rng.random() < 0.006
    prompt = 0 if failed else int(rng.lognormal(np.log(feature.prompt_tokens), 0.45))
    completion = 0 if failed else int(rng.lognormal(np.log(feature.completion_tokens), 0.5))
    cached = int(prompt * feature.cache_read_share * rng.uniform(0.6, 1.4)) // 128 * 128
    own = provider == "self-hosted"
    cached = 0 if own else min(cached, prompt)  # vLLM does not report prefix-cache hits
    written = int(prompt * feature.cache_write_share * rng.uniform(0.5, 1.5))
    written = min(written, prompt - cached)
    uncached = prompt - cached - written
    spend = (uncached * p_in + cached * p_cached + written * p_write + completion * p_out) / 1000
    duration = int(rng.lognormal(np.log(2_400 + completion * 18), 0.35))
    first_token = int(duration * rng.uniform(0.08, 0.3))
    return _Call(
        alias=alias,
        model=provider_model,
        provider=provider,
        start=start,
        failed=failed,
        prompt=prompt,
        completion=completion,
        cached=cached,
        written=written,
        spend=spend,
        duration_ms=duration,
        first_token_ms=first_token,
    )


def _usage_values(call: _Call) -> dict[str, object]:
    """`additional_usage_values` as each provider's LiteLLM integration logs it."""
    if call.provider == "Microsoft":
        return {
            "prompt_tokens_details": {"cached_tokens": call.cached, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
        }
    if call.provider == "self-hosted":
        return {"prompt_tokens_details": None, "completion_tokens_details": None}
    return {"cache_read_input_tokens": call.cached, "cache_creation_input_tokens": call.written}


def _metadata(
    rng: np.random.Generator, feature: LlmFeature, call: _Call, api_key: str, team_id: str
) -> str:
    """The request's `metadata` column (JSON): its key, team, usage details and status."""
    metadata: dict[str, object] = {
        "user_api_key": api_key,
        "user_api_key_alias": feature.key_alias,
        "user_api_key_team_id": team_id,
        "user_api_key_team_alias": feature.team_alias,
        "user_api_key_org_id": None,
        "user_api_key_user_id": None,
        "additional_usage_values": _usage_values(call),
        "requester_ip_address": "",
        "applied_guardrails": [],
        "status": "failure" if call.failed else "success",
    }
    # About one request in twelve comes from an old client that does not send the portfolio id.
    if rng.random() > 0.08:
        metadata["spend_logs_metadata"] = {"model_portfolio_id": feature.model_id}
    return json.dumps(metadata, separators=(",", ":"))


def _request(
    rng: np.random.Generator, feature: LlmFeature, day: date, api_key: str, team_id: str
) -> dict[str, object]:
    call = _draw_call(rng, feature, day)
    metadata = _metadata(rng, feature, call, api_key, team_id)
    azure = call.provider == "Microsoft"
    own = call.provider == "self-hosted"
    end = call.start + timedelta(milliseconds=call.duration_ms)
    first_token = call.start + timedelta(milliseconds=call.first_token_ms)
    ms = "%Y-%m-%d %H:%M:%S.%f"
    # The row's keys are the table's columns, in its order; the random ids are drawn in it.
    return {
        "request_id": ("chatcmpl-" if azure or own else "msg_bdrk_01") + _hex(rng, 24),
        "call_type": "acompletion",
        "api_key": api_key,
        "spend": round(call.spend, 10),
        "total_tokens": call.prompt + call.completion,
        "prompt_tokens": call.prompt,
        "completion_tokens": call.completion,
        "startTime": call.start.strftime(ms)[:-3],
        "endTime": end.strftime(ms)[:-3],
        "completionStartTime": first_token.strftime(ms)[:-3],
        "model": call.model,
        "model_id": hashlib.sha256(call.alias.encode()).hexdigest()[:32],
        "model_group": call.alias,
        "custom_llm_provider": "azure" if azure else "hosted_vllm" if own else "bedrock",
        "api_base": (
            "https://oai-northwind-shared.openai.azure.com/"
            if azure
            else VLLM_BASE
            if own
            else "https://bedrock-runtime.us-east-1.amazonaws.com"
        ),
        "user": "",
        "metadata": metadata,
        "cache_hit": "False",
        "cache_key": "Cache OFF",
        "request_tags": json.dumps([f"feature:{feature.feature}", "env:prod"]),
        "team_id": team_id,
        "organization_id": None,
        "end_user": "",
        "requester_ip_address": "",
        "messages": "{}",
        "response": "{}",
        "session_id": _hex(rng, 32),
        "status": "failure" if call.failed else "success",
        "proxy_server_request": "{}",
        "mcp_namespaced_tool_name": None,
        "agent_id": None,
        "request_duration_ms": call.duration_ms,
        "_cached": call.cached,
        "_written": call.written,
    }


def spend_log_csv(frame: pl.DataFrame) -> bytes:
    """One month of spend logs as `\\copy "LiteLLM_SpendLogs" TO ... CSV HEADER` writes it."""
    out = io.StringIO()
    columns = [c for c in frame.columns if not c.startswith("_")]
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in frame.select(columns).iter_rows():
        writer.writerow("" if v is None else v for v in row)
    return out.getvalue().encode("utf-8")


def daily_tokens(seed: int, logs: pl.DataFrame) -> pl.DataFrame:
    """Billed tokens per day and provider model: logged traffic plus bypass, or modelled volume."""
    own = [m for m, (provider, *_) in LLM_PRICES.items() if provider == "self-hosted"]
    logged = (
        logs.filter((pl.col("status") == "success") & ~pl.col("model").is_in(own))
        .with_columns(day=pl.col("startTime").str.slice(0, 10).str.to_date())
        .group_by("day", "model")
        .agg(
            requests=pl.len(),
            input_tokens=(pl.col("prompt_tokens") - pl.col("_cached") - pl.col("_written")).sum(),
            cached_tokens=pl.col("_cached").sum(),
            cache_write_tokens=pl.col("_written").sum(),
            output_tokens=pl.col("completion_tokens").sum(),
        )
        .with_columns(
            (pl.col(c) * (1 + BYPASS_SHARE)).round(0).cast(pl.Int64)
            for c in (
                "requests",
                "input_tokens",
                "cached_tokens",
                "cache_write_tokens",
                "output_tokens",
            )
        )
    )
    rng = rng_for(seed, "llm-daily-volume")
    rows = []
    day = min(MODELS_BY_ID[f.model_id].launched for f in FEATURES)
    while day < LLM_LOG_FIRST_MONTH:
        for feature in FEATURES:
            volume = _volume(feature, day)
            if volume <= 0:
                continue
            for _, provider_model, share, _ in running(feature, day):
                if provider_model in own:
                    continue
                n = volume * share * rng.normal(1.0, 0.08)
                prompt = n * feature.prompt_tokens * 1.1
                cached = prompt * feature.cache_read_share
                written = prompt * feature.cache_write_share
                rows.append(
                    {
                        "day": day,
                        "model": provider_model,
                        "requests": round(n),
                        "input_tokens": round(prompt - cached - written),
                        "cached_tokens": round(cached),
                        "cache_write_tokens": round(written),
                        "output_tokens": round(n * feature.completion_tokens * 1.13),
                    }
                )
        day += timedelta(days=1)
    modelled = pl.DataFrame(rows, schema=logged.schema)
    return (
        pl.concat([modelled, logged])
        .group_by("day", "model")
        .agg(pl.all().sum())
        .sort("day", "model")
    )
