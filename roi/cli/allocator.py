"""Polars' memory allocator, tuned for the command line before Polars loads.

Polars allocates with jemalloc, which by default hands freed pages back to the system almost
at once; a load allocates and frees frames of hundreds of megabytes batch after batch, so the
kernel zeroed and mapped the same memory again and again (10M Azure cost lines: 22.6 s of 80 s
CPU in the kernel). Keeping freed pages five seconds before returning them took that to 11.5 s
and the load from 46 s to 38 s, for a higher peak (2.9 → 3.4 GiB; bench/RESULTS.md). A value
the user set (`_RJEM_MALLOC_CONF`) wins.
"""

from __future__ import annotations

import os

VARIABLE = "_RJEM_MALLOC_CONF"
SETTINGS = "dirty_decay_ms:5000,muzzy_decay_ms:5000"


def tune() -> None:
    """Set the allocator's options unless the user did (only takes effect before Polars loads)."""
    os.environ.setdefault(VARIABLE, SETTINGS)


tune()
