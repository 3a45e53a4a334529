"""File fingerprints: the sha256 of the bytes, the same whether hashed one by one or side by
side, in the order given."""

from __future__ import annotations

import hashlib
from pathlib import Path

from roi.loading.files import file_digest, file_digests


def test_side_by_side_digests_are_each_files_sha256_in_order(tmp_path: Path) -> None:
    sizes = [0, 1, 5_000_000, 3, 70_000, 2_000_000]
    paths = []
    for i, size in enumerate(sizes):
        path = tmp_path / f"part-{i}.csv"
        seed = hashlib.sha256(str(i).encode()).digest()
        path.write_bytes((seed * (size // len(seed) + 1))[:size])
        paths.append(path)
    expected = [hashlib.sha256(p.read_bytes()).hexdigest() for p in paths]
    assert file_digests(paths) == expected
    assert [file_digest(p) for p in paths] == expected
    assert len(set(expected)) == len(paths)
    assert file_digests(paths[:1]) == expected[:1]
    assert file_digests([]) == []
