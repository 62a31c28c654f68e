"""binder/postBuild, run the way repo2docker runs it, gives a working one-click demo.

A clean copy of the repository (the files git tracks or would track: no .venv, node_modules,
built front end or stores), a fresh venv with this machine's Python and Node standing in for the
image's (binder/environment.yml pins their versions; the test checks they match), then
``bash binder/postBuild`` from the copy's root. Afterwards Jupyter must list the server
extension and the labextension as enabled, and the demo notebook must execute in a kernel of
that venv and leave its runs in the demo's store.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).parents[1]
ANSI = re.compile(r"\x1b\[[0-9;]*m")  # jupyter's listings colour "enabled" and "OK"
NETWORK_SETTINGS = r"^(PIP_|SSL_CERT_|NODE_EXTRA_CA_CERTS$|REQUESTS_CA_BUNDLE$|CURL_CA_BUNDLE$)"
pytestmark = [pytest.mark.slow, pytest.mark.timeout(3600)]

EXECUTE = """
import json, sys
import nbclient, nbformat
nb = nbformat.read(sys.argv[1], as_version=4)
nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                        resources={"metadata": {"path": sys.argv[2]}}).execute()
errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
print(json.dumps({"cells": len(nb.cells), "errors": errors}))
"""


def pinned(name: str) -> str:
    """The version binder/environment.yml gives the image for ``name`` (python, nodejs)."""
    text = (REPO / "binder" / "environment.yml").read_text()
    return re.search(rf"^\s*-\s*{name}\s*=\s*([\d.]+)", text, re.M).group(1)


def clean_copy(dest: Path) -> Path:
    """Copy what a fresh clone holds (tracked and new, not ignored files) to ``dest``."""
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO, check=True, capture_output=True, text=True,
    ).stdout.split("\0")  # fmt: skip
    for name in filter(None, files):
        source = REPO / name
        if source.is_file():  # a file deleted in the working tree is still in the index
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


@pytest.fixture(scope="module")
def binder_image(tmp_path_factory):
    """Run postBuild in a fresh venv from a clean copy; yield (copy, venv bin dir, env)."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("binder's image has Node; this machine has none")
    python = f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert python == pinned("python"), "binder/environment.yml and this Python differ"
    node_version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout
    assert node_version.lstrip("v").split(".")[0] == pinned("nodejs").split(".")[0]

    work = tmp_path_factory.mktemp("binder")
    repo = clean_copy(work / "repo")
    home = work / "home"
    home.mkdir()
    # the image's Python (no packages of ours), as repo2docker's environment gives it
    base_python = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base_python, "-m", "venv", str(work / "venv")], check=True)
    bindir = work / "venv" / "bin"
    env = {
        "PATH": f"{bindir}:{Path(node).parent}:/usr/bin:/bin",
        "HOME": str(home),  # no ~/.jupyter of the developer's
        "JUPYTER_PLATFORM_DIRS": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "YARN_ENABLE_PROGRESS_BARS": "false",
        "YARN_ENABLE_TELEMETRY": "0",
    }
    # the machine's package-index and certificate settings (binder's image has its own)
    env.update({k: v for k, v in os.environ.items() if re.match(NETWORK_SETTINGS, k)})
    # Lean: reuse the yarn package cache `make` filled (the packages, not node_modules): jlpm's
    # yarn keeps it in the project, extension/.yarn/cache, which a clean copy does not hold.
    # Without it the image's jlpm install fetched all 4,480 packages again (75 s).
    yarn_cache = REPO / "extension" / ".yarn" / "cache"
    if yarn_cache.is_dir():
        env["YARN_CACHE_FOLDER"] = str(yarn_cache)
    build = subprocess.run(
        ["bash", "binder/postBuild"], cwd=repo, env=env, capture_output=True, text=True,
        timeout=3000,
    )  # fmt: skip
    (work / "postBuild.log").write_text(build.stdout + build.stderr)
    assert build.returncode == 0, (build.stdout + build.stderr)[-4000:]
    return repo, bindir, env, build.stdout + build.stderr


def test_postbuild_enables_the_server_extension_and_the_labextension(binder_image):
    repo, bindir, env, log = binder_image
    server = subprocess.run([str(bindir / "jupyter"), "server", "extension", "list"],
                            cwd=repo, env=env, capture_output=True, text=True, check=True)  # fmt: skip
    listing = ANSI.sub("", server.stdout + server.stderr)
    assert re.search(r"kernel_magics\s+enabled", listing), listing
    assert re.search(r"kernel_magics\s+[\d.]+\s+OK", listing), listing
    lab = subprocess.run([str(bindir / "jupyter"), "labextension", "list"],
                         cwd=repo, env=env, capture_output=True, text=True, check=True)  # fmt: skip
    listing = ANSI.sub("", lab.stdout + lab.stderr)
    assert re.search(r"jupyter-mlops v[\d.]+\s+enabled\s+OK", listing), listing


def test_the_demo_notebook_executes_and_its_runs_are_in_the_demo_store(binder_image):
    repo, bindir, env, _ = binder_image
    demo = repo / "demo"
    out = subprocess.run(
        [str(bindir / "python"), "-c", EXECUTE, str(demo / "demo.ipynb"), str(demo)],
        cwd=demo, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-4000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["errors"] == []
    # the runs landed in demo/.mlops (the store the panel shows), found from the notebook's folder
    listed = subprocess.run(
        [str(bindir / "mlops"), "runs", "ls", "--json", "-n", "50"],
        cwd=demo, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    runs = json.loads(listed.stdout)
    assert {r["name"] for r in runs} >= {"logreg-C0.01", "logreg-C0.1", "logreg-C1.0"}
    assert len(runs) == 4  # the tracked cell and the three API runs
    assert all(r["status"] == "finished" for r in runs)
    assert (demo / ".mlops" / "mlops.db").exists()
