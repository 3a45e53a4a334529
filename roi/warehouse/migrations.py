"""The warehouse's schema history: numbered migrations, applied once each, in order.

Each migration runs inside one transaction with its `_migrations` row
(`roi.warehouse.connection.migrate`). Never edit a released migration: append a new one. The
current shape of each table is its contract in `roi.tables`; a test checks that these
migrations build exactly that.
"""

from __future__ import annotations

from collections.abc import Callable

from roi.tables import MONEY
from roi.warehouse.cost_store import (
    add_contract_columns,
    move_table_to_files,
    rename_split_tags,
    tag_text_everywhere,
)
from roi.warehouse.sql import Connection

# Each migration is applied once, in order, inside one transaction with its `_migrations` row.
# Never edit a released migration: append a new one.
# A migration is SQL, or a Python step on the connection (migration 3: the billing lines become
# Parquet files, `roi.warehouse.cost_store.move_table_to_files`).
Step = str | Callable[[Connection], None]
MIGRATIONS: tuple[tuple[int, str, Step], ...] = (
    (
        1,
        "core tables",
        f"""
        CREATE TABLE _loads (
            load_id VARCHAR PRIMARY KEY, connector VARCHAR NOT NULL,
            connector_type VARCHAR NOT NULL,
            target_table VARCHAR NOT NULL, started_at TIMESTAMPTZ NOT NULL,
            finished_at TIMESTAMPTZ NOT NULL, status VARCHAR NOT NULL,
            rows_extracted BIGINT NOT NULL, rows_loaded BIGINT NOT NULL,
            rows_rejected BIGINT NOT NULL, rows_replaced BIGINT NOT NULL,
            files JSON NOT NULL, cursor JSON NOT NULL);
        CREATE TABLE _state (
            connector VARCHAR PRIMARY KEY, cursor JSON NOT NULL, load_id VARCHAR NOT NULL,
            updated_at TIMESTAMPTZ NOT NULL);
        CREATE TABLE _rejects (
            load_id VARCHAR NOT NULL, connector VARCHAR NOT NULL, source_file VARCHAR,
            source_row BIGINT, "column" VARCHAR, value VARCHAR, reason VARCHAR NOT NULL,
            rejected_at TIMESTAMPTZ NOT NULL);
        CREATE TABLE cost_lines (
            provider VARCHAR NOT NULL, billing_account_id VARCHAR NOT NULL,
            billing_account_name VARCHAR, sub_account_id VARCHAR, sub_account_name VARCHAR,
            invoice_id VARCHAR, billing_period_start TIMESTAMPTZ NOT NULL,
            billing_period_end TIMESTAMPTZ NOT NULL, charge_period_start TIMESTAMPTZ NOT NULL,
            charge_period_end TIMESTAMPTZ NOT NULL, charge_category VARCHAR NOT NULL,
            charge_class VARCHAR, charge_frequency VARCHAR, charge_description VARCHAR,
            pricing_category VARCHAR, service_name VARCHAR, service_category VARCHAR,
            service_subcategory VARCHAR, region_id VARCHAR, resource_id VARCHAR,
            resource_name VARCHAR, resource_type VARCHAR, sku_id VARCHAR, sku_price_id VARCHAR,
            sku_meter VARCHAR, billed_cost {MONEY} NOT NULL, effective_cost {MONEY} NOT NULL,
            list_cost {MONEY}, contracted_cost {MONEY}, consumed_quantity DOUBLE,
            consumed_unit VARCHAR, pricing_quantity DOUBLE, pricing_unit VARCHAR,
            commitment_discount_id VARCHAR, commitment_discount_type VARCHAR,
            commitment_discount_category VARCHAR, commitment_discount_status VARCHAR,
            billing_currency VARCHAR NOT NULL, tags MAP(VARCHAR, VARCHAR), tags_raw VARCHAR,
            sku_price_details VARCHAR, x_instance_type VARCHAR, x_gpu_count INTEGER,
            focus_version VARCHAR NOT NULL, export VARCHAR NOT NULL, delivery VARCHAR NOT NULL,
            source_file VARCHAR NOT NULL, source_row BIGINT NOT NULL, _load_id VARCHAR NOT NULL);
        CREATE TABLE inference_usage (
            request_id VARCHAR NOT NULL, ts TIMESTAMPTZ NOT NULL, provider VARCHAR,
            model VARCHAR NOT NULL, deployment VARCHAR, call_type VARCHAR, feature VARCHAR,
            model_id VARCHAR, team VARCHAR, tags MAP(VARCHAR, VARCHAR), status VARCHAR,
            requests BIGINT NOT NULL, input_tokens BIGINT NOT NULL,
            cached_input_tokens BIGINT NOT NULL, cache_write_tokens BIGINT NOT NULL,
            output_tokens BIGINT NOT NULL, cost {MONEY}, currency VARCHAR NOT NULL,
            cost_source VARCHAR NOT NULL, price_version VARCHAR, source_file VARCHAR NOT NULL,
            source_row BIGINT NOT NULL, _load_id VARCHAR NOT NULL);
        CREATE TABLE gpu_usage (
            interval_start TIMESTAMPTZ NOT NULL, interval_end TIMESTAMPTZ NOT NULL,
            cluster VARCHAR NOT NULL, node VARCHAR NOT NULL, gpu_uuid VARCHAR NOT NULL,
            gpu_index INTEGER, gpu_model VARCHAR, namespace VARCHAR, workload VARCHAR,
            pod VARCHAR, labels MAP(VARCHAR, VARCHAR), gpu_share DOUBLE NOT NULL,
            utilization DOUBLE, memory_used_bytes BIGINT, power_watts DOUBLE,
            source VARCHAR NOT NULL, source_file VARCHAR NOT NULL, source_row BIGINT,
            _load_id VARCHAR NOT NULL);
        CREATE TABLE kpi_values (
            kpi VARCHAR NOT NULL, period_start DATE NOT NULL, period_end DATE NOT NULL,
            model_id VARCHAR, segment VARCHAR NOT NULL, experiment_id VARCHAR,
            value DOUBLE NOT NULL, unit VARCHAR, n BIGINT, std_dev DOUBLE,
            source_file VARCHAR NOT NULL, source_row BIGINT NOT NULL, _load_id VARCHAR NOT NULL);
        CREATE TABLE model_metrics (
            model_id VARCHAR NOT NULL, metric VARCHAR NOT NULL, ts TIMESTAMPTZ NOT NULL,
            value DOUBLE NOT NULL, model_version VARCHAR, source_file VARCHAR NOT NULL,
            source_row BIGINT NOT NULL, _load_id VARCHAR NOT NULL);
        CREATE TABLE portfolio_models (
            model_id VARCHAR PRIMARY KEY, name VARCHAR NOT NULL, owner VARCHAR NOT NULL,
            business_unit VARCHAR NOT NULL, stage VARCHAR NOT NULL, launched DATE,
            retired DATE, domain VARCHAR, definition_file VARCHAR NOT NULL);
        CREATE TABLE allocated_costs (
            month DATE NOT NULL, model_id VARCHAR NOT NULL, cost_type VARCHAR NOT NULL,
            basis VARCHAR NOT NULL, rule_id VARCHAR NOT NULL, provider VARCHAR NOT NULL,
            amount {MONEY} NOT NULL, billed_amount {MONEY} NOT NULL, currency VARCHAR NOT NULL,
            line_count BIGINT NOT NULL, load_ids VARCHAR[] NOT NULL,
            attribution_id VARCHAR NOT NULL);
        CREATE TABLE attribution_conflicts (
            month DATE NOT NULL, provider VARCHAR NOT NULL, resource_id VARCHAR,
            matched_models VARCHAR[] NOT NULL, chosen_model VARCHAR NOT NULL,
            amount {MONEY} NOT NULL, line_count BIGINT NOT NULL,
            attribution_id VARCHAR NOT NULL);
        CREATE TABLE unallocated_costs (
            month DATE NOT NULL, provider VARCHAR NOT NULL, service_name VARCHAR,
            resource_id VARCHAR, cost_type VARCHAR NOT NULL, reason VARCHAR NOT NULL,
            currency VARCHAR NOT NULL, amount {MONEY} NOT NULL, line_count BIGINT NOT NULL,
            attribution_id VARCHAR NOT NULL);
        CREATE TABLE _attributions (
            attribution_id VARCHAR PRIMARY KEY, started_at TIMESTAMPTZ NOT NULL,
            finished_at TIMESTAMPTZ NOT NULL, months JSON NOT NULL, cost_lines BIGINT NOT NULL,
            load_ids JSON NOT NULL);
        """,
    ),
    (
        2,
        "billing exports named by the provider's layout, not the path they were read from",
        r"""
        UPDATE cost_lines SET export = CASE
            WHEN regexp_matches(export, '(^|/)[^/]+/data/BILLING_PERIOD=[^/]*$')
                THEN regexp_extract(export, '([^/]+)/data/BILLING_PERIOD=[^/]*$', 1)
            WHEN regexp_matches(export, '(^|/)[^/]+/BILLING_PERIOD=[^/]*$')
                THEN regexp_extract(export, '([^/]+)/BILLING_PERIOD=[^/]*$', 1)
            WHEN regexp_matches(export, '(^|/)[^/]+/\d{8}-\d{8}$')
                THEN regexp_extract(export, '([^/]+)/\d{8}-\d{8}$', 1)
            ELSE regexp_extract(export, '([^/]*)$', 1) END;
        """,
    ),
    (3, "cost_lines stored as Parquet files listed in _cost_files", move_table_to_files),
    (
        4,
        "rejected billing lines keep their month and amount",
        f"""
        ALTER TABLE _rejects ADD COLUMN month DATE;
        ALTER TABLE _rejects ADD COLUMN amount {MONEY};
        ALTER TABLE _rejects ADD COLUMN currency VARCHAR;
        """,
    ),
    (
        5,
        "the basis each shared pool was split by",
        """
        CREATE TABLE allocation_bases (
            month DATE NOT NULL, rule_id VARCHAR NOT NULL, model_id VARCHAR NOT NULL,
            basis VARCHAR NOT NULL, unit VARCHAR, quantity DOUBLE, usage_quantity DOUBLE,
            share DOUBLE, attribution_id VARCHAR NOT NULL);
        """,
    ),
    (
        6,
        "training amortized over a model's declared life, beside the expense view",
        f"""
        CREATE TABLE amortized_costs (
            incurred_month DATE NOT NULL, month DATE NOT NULL, model_id VARCHAR NOT NULL,
            rule_id VARCHAR NOT NULL, provider VARCHAR NOT NULL, currency VARCHAR NOT NULL,
            amount {MONEY} NOT NULL, attribution_id VARCHAR NOT NULL);
        CREATE VIEW allocated_costs_amortized AS
            SELECT a.month, a.model_id, a.cost_type, a.basis, a.rule_id, a.provider, a.amount,
                   a.billed_amount, a.currency, a.attribution_id
            FROM allocated_costs a
            WHERE NOT (a.cost_type = 'training' AND EXISTS (
                SELECT 1 FROM amortized_costs t
                WHERE t.incurred_month = a.month AND t.model_id = a.model_id
                  AND t.rule_id = a.rule_id AND t.provider = a.provider
                  AND t.currency = a.currency))
            UNION ALL
            SELECT month, model_id, 'training', 'amortized', rule_id, provider, sum(amount),
                   0, currency, any_value(attribution_id)
            FROM amortized_costs GROUP BY ALL;
        """,
    ),
    (
        7,
        "what each attributed month was computed from, for incremental attribution",
        """
        CREATE TABLE _attributed_months (
            month DATE PRIMARY KEY, inputs VARCHAR NOT NULL, rules VARCHAR NOT NULL,
            attribution_id VARCHAR NOT NULL);
        """,
    ),
    (
        8,
        "LLM usage with no bill behind it, and every cost of a model in one view",
        f"""
        CREATE TABLE usage_costs (
            month DATE NOT NULL, model_id VARCHAR NOT NULL, provider VARCHAR NOT NULL,
            currency VARCHAR NOT NULL, amount {MONEY} NOT NULL, requests BIGINT NOT NULL,
            input_tokens BIGINT NOT NULL, output_tokens BIGINT NOT NULL,
            unpriced_requests BIGINT NOT NULL, reason VARCHAR NOT NULL,
            load_ids VARCHAR[] NOT NULL, attribution_id VARCHAR NOT NULL);
        CREATE VIEW model_costs AS
            SELECT month, model_id, cost_type, basis, rule_id, provider, amount, currency,
                   load_ids, attribution_id
            FROM allocated_costs
            UNION ALL
            SELECT month, model_id, 'inference_api', 'usage', 'usage:' || provider, provider,
                   amount, currency, load_ids, attribution_id
            FROM usage_costs;
        """,
    ),
    (
        9,
        "what each model earned, and the per-model P&L",
        """
        CREATE TABLE model_value (
            month DATE NOT NULL, model_id VARCHAR NOT NULL, method VARCHAR NOT NULL,
            value DOUBLE, value_low DOUBLE, value_high DOUBLE, interval_level DOUBLE,
            interval_note VARCHAR, volume DOUBLE, unit VARCHAR, currency VARCHAR NOT NULL,
            evidence VARCHAR NOT NULL, basis VARCHAR NOT NULL, load_ids VARCHAR[] NOT NULL);
        CREATE TABLE model_roi (
            month DATE NOT NULL, model_id VARCHAR NOT NULL, currency VARCHAR NOT NULL,
            cost DOUBLE NOT NULL, value DOUBLE, value_low DOUBLE, value_high DOUBLE, net DOUBLE,
            roi DOUBLE, p_negative DOUBLE, cumulative_net DOUBLE, payback_month DATE,
            npv DOUBLE, volume DOUBLE, unit_cost DOUBLE, unit VARCHAR, gpu_efficiency DOUBLE,
            evidence VARCHAR);
        """,
    ),
    (
        10,
        "reasons for missing value, NPV and IRR over a horizon, KPI sensitivity, LLM unit costs",
        """
        ALTER TABLE model_value ADD COLUMN reason VARCHAR;
        ALTER TABLE model_roi ADD COLUMN npv_horizon DOUBLE;
        ALTER TABLE model_roi ADD COLUMN irr DOUBLE;
        ALTER TABLE model_roi ADD COLUMN horizon_end DATE;
        ALTER TABLE model_roi ADD COLUMN value_reason VARCHAR;
        CREATE TABLE kpi_sensitivity (
            model_id VARCHAR NOT NULL, kpi VARCHAR NOT NULL, metric VARCHAR NOT NULL,
            months INTEGER NOT NULL, first_month DATE, last_month DATE, kpi_per_point DOUBLE,
            kpi_per_point_low DOUBLE, kpi_per_point_high DOUBLE, std_error DOUBLE,
            p_value DOUBLE, r_squared DOUBLE, level DOUBLE NOT NULL, unit_value DOUBLE,
            value_per_point DOUBLE, currency VARCHAR NOT NULL, measured BOOLEAN NOT NULL,
            note VARCHAR NOT NULL, load_ids VARCHAR[] NOT NULL);
        CREATE TABLE llm_unit_costs (
            month DATE NOT NULL, model_id VARCHAR NOT NULL, serving VARCHAR NOT NULL,
            providers VARCHAR NOT NULL, requests BIGINT NOT NULL,
            uncached_input_tokens BIGINT NOT NULL, cached_input_tokens BIGINT NOT NULL,
            cache_write_tokens BIGINT NOT NULL, output_tokens BIGINT NOT NULL,
            tokens BIGINT NOT NULL, cost DOUBLE, idle_cost DOUBLE, cost_per_1m_tokens DOUBLE,
            api_reference VARCHAR, api_cost_same_mix DOUBLE, api_per_1m_tokens DOUBLE,
            currency VARCHAR NOT NULL, note VARCHAR NOT NULL);
        """,
    ),
    (
        11,
        "scenario runs, citable by id",
        """
        CREATE TABLE scenario_runs (
            run_id VARCHAR NOT NULL, command VARCHAR NOT NULL, inputs JSON NOT NULL,
            seed BIGINT, outputs JSON NOT NULL, roi_version VARCHAR NOT NULL,
            created_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (run_id));
        """,
    ),
    (
        12,
        "unit economics in the P&L: GPU-hours and cost per GPU-hour, tokens and cost per 1M",
        """
        ALTER TABLE model_roi ADD COLUMN gpu_hours DOUBLE;
        ALTER TABLE model_roi ADD COLUMN cost_per_gpu_hour DOUBLE;
        ALTER TABLE model_roi ADD COLUMN tokens DOUBLE;
        ALTER TABLE model_roi ADD COLUMN cost_per_1m_tokens DOUBLE;
        """,
    ),
    (
        13,
        "why a model's IRR is not shown",
        """
        ALTER TABLE model_roi ADD COLUMN irr_reason VARCHAR;
        """,
    ),
    (
        14,
        "restatements: a loaded value a later load changed (a month re-closed)",
        """
        CREATE TABLE _restatements (
            load_id VARCHAR NOT NULL, target_table VARCHAR NOT NULL, "key" VARCHAR NOT NULL,
            "column" VARCHAR NOT NULL, old_value DOUBLE, new_value DOUBLE,
            old_load_id VARCHAR, source_file VARCHAR);
        """,
    ),
    (
        15,
        "what each derived result (value tables, a standing scenario) was last computed from",
        """
        CREATE TABLE _reuse (
            product VARCHAR PRIMARY KEY, inputs_key VARCHAR NOT NULL, result VARCHAR,
            updated_at TIMESTAMPTZ NOT NULL);
        """,
    ),
    (
        16,
        "LLM providers' invoices (cost reports), and 1-hour cache writes apart",
        f"""
        CREATE TABLE provider_invoices (
            line_id VARCHAR NOT NULL, provider VARCHAR NOT NULL,
            period_start TIMESTAMPTZ NOT NULL, period_end TIMESTAMPTZ NOT NULL,
            project_id VARCHAR, line_item VARCHAR, model VARCHAR, cost_type VARCHAR,
            token_type VARCHAR, service_tier VARCHAR, context_window VARCHAR,
            amount {MONEY} NOT NULL, currency VARCHAR NOT NULL, source_amount {MONEY},
            source_currency VARCHAR, fx_rate {MONEY}, source_file VARCHAR NOT NULL,
            source_row BIGINT NOT NULL, _load_id VARCHAR NOT NULL);
        ALTER TABLE inference_usage ADD COLUMN cache_write_1h_tokens BIGINT;
        """,
    ),
    (
        17,
        "FOCUS 1.3 contract commitments (the supplemental Contract Commitment dataset)",
        f"""
        CREATE TABLE contract_commitments (
            contract_commitment_id VARCHAR NOT NULL, contract_id VARCHAR NOT NULL,
            category VARCHAR NOT NULL, commitment_type VARCHAR, description VARCHAR,
            commitment_period_start TIMESTAMPTZ NOT NULL,
            commitment_period_end TIMESTAMPTZ NOT NULL, contract_period_start TIMESTAMPTZ,
            contract_period_end TIMESTAMPTZ, cost {MONEY}, quantity DOUBLE, unit VARCHAR,
            billing_currency VARCHAR NOT NULL, source_file VARCHAR NOT NULL,
            source_row BIGINT NOT NULL, _load_id VARCHAR NOT NULL);
        """,
    ),
    (
        18,
        "LLM usage priced from a dated price book: reasoning tokens, tiers",
        """
        ALTER TABLE inference_usage ADD COLUMN reasoning_tokens BIGINT;
        ALTER TABLE inference_usage ADD COLUMN service_tier VARCHAR;
        UPDATE inference_usage SET reasoning_tokens = 0,
            cache_write_1h_tokens = coalesce(cache_write_1h_tokens, 0);
        UPDATE inference_usage SET cost_source = 'unpriced' WHERE cost IS NULL;
        """,
    ),
    (
        19,
        "OpenCost's inference costs, and its rates beside a self-hosted model's unit cost",
        """
        CREATE TABLE inference_costs (
            window_start TIMESTAMPTZ NOT NULL, window_end TIMESTAMPTZ NOT NULL,
            cluster VARCHAR NOT NULL, namespace VARCHAR NOT NULL, model_name VARCHAR NOT NULL,
            model_version VARCHAR, cost_basis VARCHAR NOT NULL, total_cost DOUBLE NOT NULL,
            input_cost DOUBLE, output_cost DOUBLE, prompt_tokens DOUBLE NOT NULL,
            cached_tokens DOUBLE, generation_tokens DOUBLE NOT NULL, cost_per_1m_tokens DOUBLE,
            input_cost_per_1m_tokens DOUBLE, output_cost_per_1m_tokens DOUBLE,
            allocation_method VARCHAR, currency VARCHAR NOT NULL, source_file VARCHAR NOT NULL,
            source_row BIGINT NOT NULL, _load_id VARCHAR NOT NULL);
        ALTER TABLE llm_unit_costs ADD COLUMN opencost_per_1m_tokens DOUBLE;
        ALTER TABLE llm_unit_costs ADD COLUMN opencost_input_per_1m_tokens DOUBLE;
        ALTER TABLE llm_unit_costs ADD COLUMN opencost_output_per_1m_tokens DOUBLE;
        """,
    ),
    (
        20,
        "billing lines keep their unit prices (list, contracted, effective), billing currency",
        add_contract_columns,
    ),
    (
        21,
        "CUR split cost allocation labels under AWS's names: aws_eks_namespace → aws:eks:namespace",
        rename_split_tags,
    ),
    (22, "every tagged billing line keeps its tag text", tag_text_everywhere),
)

LATEST_VERSION = max(version for version, _, _ in MIGRATIONS)
