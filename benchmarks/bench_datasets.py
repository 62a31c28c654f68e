"""Storing dataset versions vs ``dvc add`` on the same data, side by side in one run.

Measures, for a large file (1 GB by default) and a folder of 10,000 small files:

- ``store_dataset`` (content-defined chunks into a fresh local store) vs ``dvc add`` (into a
  fresh ``dvc init --no-scm`` repository's cache), wall time and throughput;
- re-versioning the large file after a 1 % append: bytes stored and time, against the first
  version's.

DVC comes with the ``bench`` extra (``make bench`` installs it next to our dependencies, which
it leaves as they are); ``DVC=/path/to/dvc`` picks another executable::

    DVC=/tmp/dvc-venv/bin/dvc .venv/bin/python benchmarks/bench_datasets.py --size 256

``dvc add`` is timed as a user runs it (one process, start-up included); ours is timed in
process, the way ``mlops.log_dataset`` runs inside a kernel. CPU seconds (ours: this process;
DVC: its process) are printed too: on a busy machine they say what the wall times cannot.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MB = 1_000_000


def dvc_executable() -> str | None:
    """DVC's executable: $DVC, else ``dvc`` on PATH or next to this interpreter."""
    if os.environ.get("DVC"):
        return os.environ["DVC"]
    return shutil.which("dvc") or shutil.which("dvc", path=str(Path(sys.executable).parent))


def write_random(path: Path, size: int, seed: int) -> None:
    rng = random.Random(seed)
    with open(path, "wb") as fh:
        left = size
        while left:
            block = min(left, 8 * MB)
            fh.write(rng.randbytes(block))
            left -= block


def make_folder(folder: Path, count: int, size: int) -> None:
    rng = random.Random(7)
    for i in range(count):
        sub = folder / f"part-{i // 1000:03d}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"{i:06d}.json").write_bytes(rng.randbytes(size))


CPU: dict[str, float] = {}


def ours(store, path: Path, name: str, label: str) -> tuple[float, int]:
    from kernel_magics.core.data import store_dataset

    cpu, start = time.process_time(), time.perf_counter()
    record = store_dataset(store, path, name, store_content=True)
    CPU[f"ours {label}"] = time.process_time() - cpu
    return time.perf_counter() - start, record.stored_bytes


def dvc_add(dvc: str, repo: Path, target: str, label: str) -> float:
    def children() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    cpu, start = children(), time.perf_counter()
    subprocess.run([dvc, "add", "-q", target], cwd=repo, check=True, capture_output=True)
    CPU[f"dvc {label}"] = children() - cpu
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1000, help="Large file size in MB (1000).")
    parser.add_argument("--files", type=int, default=10_000, help="Small files (10,000).")
    parser.add_argument("--file-bytes", type=int, default=4000, help="Bytes per small file.")
    args = parser.parse_args()
    dvc = dvc_executable()
    work = Path(tempfile.mkdtemp(prefix="bench-datasets-", dir=os.environ.get("BENCH_TMP")))
    try:
        repo = work / "repo"
        repo.mkdir()
        # Two identical copies: each tool versions its own, so neither reads the other's writes.
        big, big_dvc, folder = repo / "big.bin", repo / "big-dvc.bin", repo / "shards"
        write_random(big, args.size * MB, 1)
        shutil.copyfile(big, big_dvc)
        make_folder(folder, args.files, args.file_bytes)
        appended = random.Random(2).randbytes(args.size * MB // 100)
        os.sync()  # the set-up's dirty pages are on disk before anything is timed
        os.environ["MLOPS_HOME"] = str(work / ".mlops")
        from kernel_magics.core.store import open_store

        store = open_store()
        rows = []
        t_file, stored_file = ours(store, big, "big", "file")
        t_folder, _ = ours(store, folder, "shards", "folder")
        with open(big, "ab") as fh:  # grow by 1 %
            fh.write(appended)
        t_append, stored_append = ours(store, big, "big", "append")
        os.sync()
        d_file = d_folder = d_append = None
        if dvc:
            subprocess.run([dvc, "init", "--no-scm", "-q"], cwd=repo, check=True)
            d_file = dvc_add(dvc, repo, "big-dvc.bin", "file")
            d_folder = dvc_add(dvc, repo, "shards", "folder")
            with open(big_dvc, "ab") as fh:
                fh.write(appended)
            d_append = dvc_add(dvc, repo, "big-dvc.bin", "append")
        size_file, size_folder = args.size * MB, args.files * args.file_bytes
        rows.append(("large file", size_file, t_file, d_file))
        rows.append((f"{args.files:,} small files", size_folder, t_folder, d_folder))
        rows.append(("large file +1 % (re-version)", size_file * 1.01, t_append, d_append))
        print(f"{'case':34} {'ours':>9} {'MB/s':>8} {'dvc add':>9} {'MB/s':>8} {'ours/dvc':>9}")
        for label, size, mine, theirs in rows:
            line = f"{label:34} {mine:8.2f}s {size / MB / mine:8.0f}"
            if theirs is not None:
                line += f" {theirs:8.2f}s {size / MB / theirs:8.0f} {theirs / mine:8.1f}x"
            print(line)
        print(f"re-version after 1 % append: stored {stored_append / MB:.1f} MB of "
              f"{size_file * 1.01 / MB:.0f} MB ({100 * stored_append / (size_file * 1.01):.1f} %), "
              f"time {100 * t_append / t_file:.0f} % of the first version's "
              f"(first stored {stored_file / MB:.0f} MB)")  # fmt: skip
        print("CPU seconds: " + ", ".join(f"{k} {v:.2f}" for k, v in CPU.items()))
        if not dvc:
            print("dvc not found: set DVC=/path/to/dvc for the side-by-side columns")
        store.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
