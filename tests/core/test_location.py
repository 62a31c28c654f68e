"""Where the store lives, and the refusal of network filesystems."""

from __future__ import annotations

import subprocess
import sys

import pytest

from kernel_magics.core.config import resolve_location
from kernel_magics.core.store.db import check_local_filesystem, filesystem_type
from kernel_magics.errors import NetworkFilesystemError


def test_env_home_wins(tmp_path):
    loc = resolve_location(tmp_path, {"MLOPS_HOME": str(tmp_path / "h")})
    assert loc.store_uri == f"sqlite:///{tmp_path / 'h' / 'mlops.db'}"
    assert loc.artifacts_uri == str(tmp_path / "h" / "artifacts")
    assert loc.reason == "MLOPS_HOME is set"


def test_store_uri_and_artifacts_uri(tmp_path):
    env = {"MLOPS_STORE_URI": "postgresql+psycopg://u@h/db", "MLOPS_ARTIFACTS_URI": "s3://b/p"}
    loc = resolve_location(tmp_path, env)
    assert (loc.store_uri, loc.artifacts_uri) == ("postgresql+psycopg://u@h/db", "s3://b/p")
    assert "MLOPS_STORE_URI" in loc.reason


def test_nearest_store_walking_up(tmp_path):
    (tmp_path / ".mlops").mkdir()
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    loc = resolve_location(deep, {})
    assert loc.home == tmp_path / ".mlops" and "nearest" in loc.reason


def test_new_store_at_git_root(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    deep = tmp_path / "notebooks"
    deep.mkdir()
    loc = resolve_location(deep, {})
    assert loc.home == tmp_path / ".mlops" and "git root" in loc.reason


def test_new_store_in_working_directory(tmp_path):
    loc = resolve_location(tmp_path, {})
    assert loc.home == tmp_path / ".mlops" and "working directory" in loc.reason


@pytest.mark.parametrize("fstype", ["nfs4", "cifs", "fuse.sshfs"])
def test_sqlite_on_network_filesystem_is_refused(tmp_path, monkeypatch, fstype):
    mounts = tmp_path / "mounts"
    mounts.write_text(f"/dev/vda / ext4 rw 0 0\nserver:/share {tmp_path} {fstype} rw 0 0\n")
    assert filesystem_type(tmp_path / "x" / "mlops.db", str(mounts)) == fstype
    with pytest.raises(NetworkFilesystemError, match="PostgreSQL"):
        check_local_filesystem(tmp_path / "mlops.db", str(mounts))
    monkeypatch.setenv("MLOPS_ALLOW_NETWORK_FS", "1")
    check_local_filesystem(tmp_path / "mlops.db", str(mounts))  # explicit override


def test_local_filesystem_is_accepted(tmp_path):
    mounts = tmp_path / "mounts"
    mounts.write_text("/dev/vda / ext4 rw 0 0\nserver:/share /mnt/share nfs rw 0 0\n")
    check_local_filesystem(tmp_path / "mlops.db", str(mounts))


def test_import_is_light():
    code = (
        "import sys, kernel_magics\n"
        "heavy = {'pandas', 'sqlalchemy', 'IPython', 'tornado', 'papermill', 'matplotlib',"
        " 'jupyter_server', 'numpy', 'fastapi'}\n"
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
