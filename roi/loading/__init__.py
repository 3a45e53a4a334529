"""The load protocol, shared by every connector type.

- `protocol`: what a source hands the loader (batches, files, the new cursor);
- `files`, `csv_text`, `parsing`, `tags`, `rejects`: reading and parsing source text strictly;
- `checks`, `schemas`: checking each batch against its table's contract;
- `staging`, `billing_files`, `writers`, `deliveries`: staging rows as Parquet and writing them
  (merge by key, or billing deliveries replacing each other) in one transaction;
- `loader`: one source through the whole protocol; `forget`: removing a source's data;
- `freshness`: what each source covers.
"""
