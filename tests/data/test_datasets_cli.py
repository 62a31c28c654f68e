"""`mlops datasets ls / show / get`, run as a user would (a real subprocess)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import kernel_magics as mlops

MLOPS = shutil.which("mlops", path=str(Path(sys.executable).parent)) or "mlops"


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([MLOPS, *args], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "200"})  # fmt: skip


def test_ls_show_and_get_a_dataset_version(store, tmp_path):
    # Given two versions of a CSV, the second read by a run
    csv = tmp_path / "train.csv"
    csv.write_text("age,plan\n31,a\n45,b\n")
    with mlops.start_run(store=store):
        mlops.log_dataset(csv)
    first = csv.read_bytes()
    csv.write_text("age,plan\n31,a\n45,b\n27,a\n")
    with mlops.start_run(store=store) as second_run:
        second = mlops.log_dataset(csv)
    # When the user lists, shows and gets them
    listed = run_cli("datasets", "ls")
    shown = run_cli("datasets", "show", "train@latest")
    versions = run_cli("datasets", "show", "train")
    as_json = json.loads(run_cli("datasets", "show", "train@1", "--json").stdout)
    got = run_cli("datasets", "get", "train@1", str(tmp_path / "old.csv"))
    # Then each says what a person checks
    assert listed.returncode == 0, listed.stderr
    assert "train" in listed.stdout and "train@2" in listed.stdout and "file" in listed.stdout
    assert shown.returncode == 0, shown.stderr
    assert "Dataset train@2" in shown.stdout and second["hash"] in shown.stdout
    assert "age" in shown.stdout and "int64" in shown.stdout and second_run.id[:8] in shown.stdout
    assert "train@1" in versions.stdout and "train@2" in versions.stdout
    assert (
        as_json["number"] == 1
        and as_json["rows"] == 2
        and as_json["files"][0]["path"] == ("train.csv")
    )
    assert got.returncode == 0 and (tmp_path / "old.csv").read_bytes() == first


def test_bad_references_exit_2_with_the_fix(store, tmp_path):
    csv = tmp_path / "train.csv"
    csv.write_text("x\n1\n")
    with mlops.start_run(store=store):
        mlops.log_dataset(csv)
    missing = run_cli("datasets", "show", "train@5")
    unknown = run_cli("datasets", "get", "nope@1", str(tmp_path / "x"))
    (tmp_path / "taken.csv").write_text("mine")
    clash = run_cli("datasets", "get", "train@1", str(tmp_path / "taken.csv"))
    assert missing.returncode == 2 and "its versions are 1" in missing.stderr
    assert unknown.returncode == 2 and "mlops datasets ls" in unknown.stderr
    assert clash.returncode == 2 and "--overwrite" in clash.stderr
    assert (tmp_path / "taken.csv").read_text() == "mine"
    assert "Traceback" not in missing.stderr + unknown.stderr + clash.stderr
