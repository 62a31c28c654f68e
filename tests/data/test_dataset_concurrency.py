"""Two processes logging the same dataset at the same moment store it once, as one version."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import textwrap
import time

import pytest

MB = 1_000_000

LOGGER = textwrap.dedent(
    """
    import json, os, sys, time
    from kernel_magics.core.store import open_store
    from kernel_magics.core.data import store_dataset
    go = float(sys.argv[2])
    while time.time() < go:  # start together
        time.sleep(0.001)
    record = store_dataset(open_store(), sys.argv[1], "shared")
    print(json.dumps(record.to_dict()))
    """
)


def run_together(tmp_path, paths: list) -> list[dict]:
    go = time.time() + 3.0  # both interpreters are up and importing by then
    env = {**os.environ}
    procs = [
        subprocess.Popen([sys.executable, "-c", LOGGER, str(p), str(go)], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for p in paths
    ]  # fmt: skip
    out = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0, stderr
        out.append(json.loads(stdout.strip().splitlines()[-1]))
    return out


def blob_bytes(store) -> int:
    root = store.blobs.local_path("00" * 32).parent.parent
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


@pytest.mark.timeout(180)
def test_the_same_data_logged_by_two_processes_at_once_is_stored_once(store, tmp_path):
    # Given one 8 MB file
    data = random.Random(1).randbytes(8 * MB)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for side in "ab":
        (tmp_path / side / "shared.bin").write_bytes(data)
    # When two processes log it (two copies at two paths) at the same moment
    first, second = run_together(tmp_path, [tmp_path / "a" / "shared.bin",
                                            tmp_path / "b" / "shared.bin"])  # fmt: skip
    # Then there is one version, its bytes are on disk once, and it counts them once
    assert first["id"] == second["id"] and first["number"] == second["number"] == 1
    versions = store.dataset_versions.versions("shared")
    assert len(versions) == 1 and versions[0].stored_bytes == len(data)
    assert len(data) <= blob_bytes(store) < len(data) * 1.01
    from kernel_magics.core.data import load_dataset

    assert load_dataset("shared@1", store=store).read_bytes() == data


@pytest.mark.timeout(180)
def test_two_new_versions_logged_at_once_get_two_numbers(store, tmp_path):
    for i in range(2):
        (tmp_path / f"v{i}").mkdir()
        (tmp_path / f"v{i}" / "shared.csv").write_text(f"x\n{i}\n")
    results = run_together(tmp_path, [tmp_path / "v0" / "shared.csv",
                                      tmp_path / "v1" / "shared.csv"])  # fmt: skip
    assert sorted(r["number"] for r in results) == [1, 2]
    assert len({r["id"] for r in results}) == 2
