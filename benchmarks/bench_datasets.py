"""Storing dataset versions vs ``dvc add`` on the same data, side by side in one run.

Measures, for a large file (1 GB by default) and a folder of 10,000 small files:

- ``store_dataset`` (content-defined chunks into a fresh local store) vs ``dvc add`` (into a
  fresh ``dvc init --no-scm`` repository's cache), wall time and throughput;
- re-versioning the large file after a 1 % append: bytes stored and time, against the first
  version's.

Each round resets the data and versions it into fresh stores (ours, then DVC's); the medians of
``--rounds`` rounds are shown with every round's times, since one round on a small VM can be
off by half (the first writes into never-touched memory pay for it).

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
import statistics
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


CPU: dict[str, list[float]] = {}


def ours(store, path: Path, name: str, label: str) -> tuple[float, int]:
    from kernel_magics.core.data import store_dataset

    cpu, start = time.process_time(), time.perf_counter()
    record = store_dataset(store, path, name, store_content=True)
    CPU.setdefault(f"ours {label}", []).append(time.process_time() - cpu)
    return time.perf_counter() - start, record.stored_bytes


def dvc_add(dvc: str, repo: Path, target: str, label: str) -> float:
    def children() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    cpu, start = children(), time.perf_counter()
    subprocess.run([dvc, "add", "-q", target], cwd=repo, check=True, capture_output=True)
    CPU.setdefault(f"dvc {label}", []).append(children() - cpu)
    return time.perf_counter() - start


def one_round(work: Path, data: Path, size: int, appended: bytes, dvc: str | None, n: int):
    """Version the data with both tools, each into a fresh store; the data is reset first."""
    from kernel_magics.core.store import open_store

    big, big_dvc, folder = data / "big.bin", data / "big-dvc.bin", data / "shards"
    for path in (big, big_dvc):
        os.truncate(path, size)  # undo the previous round's append
    os.sync()  # the set-up's dirty pages are on disk before anything is timed
    os.environ["MLOPS_HOME"] = str(work / f".mlops-{n}")
    store = open_store()
    t_file, stored_file = ours(store, big, "big", "file")
    t_folder, _ = ours(store, folder, "shards", "folder")
    with open(big, "ab") as fh:  # grow by 1 %
        fh.write(appended)
    t_append, stored_append = ours(store, big, "big", "append")
    store.close()
    os.sync()
    timed = {"file": t_file, "folder": t_folder, "append": t_append,
             "stored_file": stored_file, "stored_append": stored_append}  # fmt: skip
    if dvc:
        # a fresh repository (no cache, no state database) holding the same data
        repo = work / f"repo-{n}"
        repo.mkdir()
        for name in (big_dvc.name, folder.name):
            os.rename(data / name, repo / name)
        subprocess.run([dvc, "init", "--no-scm", "-q"], cwd=repo, check=True)
        timed["dvc file"] = dvc_add(dvc, repo, big_dvc.name, "file")
        timed["dvc folder"] = dvc_add(dvc, repo, folder.name, "folder")
        with open(repo / big_dvc.name, "ab") as fh:
            fh.write(appended)
        timed["dvc append"] = dvc_add(dvc, repo, big_dvc.name, "append")
        for name in (big_dvc.name, folder.name):  # DVC's copy-type cache left them in place
            os.rename(repo / name, data / name)
        shutil.rmtree(repo)
    shutil.rmtree(work / f".mlops-{n}")
    return timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1000, help="Large file size in MB (1000).")
    parser.add_argument("--files", type=int, default=10_000, help="Small files (10,000).")
    parser.add_argument("--file-bytes", type=int, default=4000, help="Bytes per small file.")
    parser.add_argument("--rounds", type=int, default=3, help="Rounds; medians are shown (3).")
    args = parser.parse_args()
    dvc = dvc_executable()
    work = Path(tempfile.mkdtemp(prefix="bench-datasets-", dir=os.environ.get("BENCH_TMP")))
    try:
        data = work / "data"
        data.mkdir()
        # Two identical copies: each tool versions its own, so neither reads the other's writes.
        write_random(data / "big.bin", args.size * MB, 1)
        shutil.copyfile(data / "big.bin", data / "big-dvc.bin")
        make_folder(data / "shards", args.files, args.file_bytes)
        appended = random.Random(2).randbytes(args.size * MB // 100)
        rounds = [one_round(work, data, args.size * MB, appended, dvc, n)
                  for n in range(args.rounds)]  # fmt: skip
        report(rounds, args, dvc is not None)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def report(rounds: list[dict[str, float]], args, with_dvc: bool) -> None:
    def med(key: str) -> float:
        return statistics.median(r[key] for r in rounds)

    size_file, size_folder = args.size * MB, args.files * args.file_bytes
    rows = [("large file", size_file, "file"),
            (f"{args.files:,} small files", size_folder, "folder"),
            ("large file +1 % (re-version)", size_file * 1.01, "append")]  # fmt: skip
    print(f"medians of {len(rounds)} rounds (ours, then dvc add, each round on fresh stores)")
    print(f"{'case':34} {'ours':>9} {'MB/s':>8} {'dvc add':>9} {'MB/s':>8} {'ours/dvc':>9}")
    for label, size, key in rows:
        mine = med(key)
        line = f"{label:34} {mine:8.2f}s {size / MB / mine:8.0f}"
        if with_dvc:
            theirs = med(f"dvc {key}")
            line += f" {theirs:8.2f}s {size / MB / theirs:8.0f} {theirs / mine:8.1f}x"
        print(line)
    stored = med("stored_append")
    share = statistics.median(r["append"] / r["file"] for r in rounds)
    print(f"re-version after 1 % append: stored {stored / MB:.1f} MB of "
          f"{size_file * 1.01 / MB:.0f} MB ({100 * stored / (size_file * 1.01):.1f} %), "
          f"time {100 * share:.0f} % of the first version's (first stored "
          f"{med('stored_file') / MB:.0f} MB)")  # fmt: skip
    for key in ("file", "append"):
        print(f"each round, {key}: ours " + " ".join(f"{r[key]:.2f}s" for r in rounds)
              + (" | dvc " + " ".join(f"{r['dvc ' + key]:.2f}s" for r in rounds)
                 if with_dvc else ""))  # fmt: skip
    print("median CPU seconds: "
          + ", ".join(f"{k} {statistics.median(v):.2f}" for k, v in CPU.items()))  # fmt: skip
    if not with_dvc:
        print("dvc not found: set DVC=/path/to/dvc for the side-by-side columns")


if __name__ == "__main__":
    main()
