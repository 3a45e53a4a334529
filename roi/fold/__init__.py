"""The fold: billing lines into monthly line groups, written once and run where the lines live.

Attribution's one heavy step is folding billing lines into groups of what the rules read
(month, provider, account, resource, charge category, tag text, …) with exact sums, the load
and the source files each group came from; everything after it works on groups that fit one
machine. `definition` writes that fold (and the source totals reconciliation compares with)
once, as Ibis expressions over a table with `cost_lines`' columns (`usage` and `gpu` the folds
of LLM requests and GPU samples the pools weigh); `engines` runs them on DuckDB
(the default: the expression compiled to DuckDB SQL and run on the warehouse connection, as
fast as the hand-written query it replaced) or on Spark (local or Spark Connect), and
`print_sql` compiles it for warehouses roi cannot reach (BigQuery, Snowflake, Trino/Athena).
"""
