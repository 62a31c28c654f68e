"""The wheel alone, with no Node on PATH, gives a working panel and an enabled server extension.

Builds the wheel from the already built front end, installs it with ``pip --prefix`` into a
temporary prefix, and starts JupyterLab with only that prefix's package, labextension and
``jupyter_server_config.d`` file (nothing enabled on the command line, ``node`` off PATH).
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from lab_server import REPO, LabServer

pytestmark = [pytest.mark.ui, pytest.mark.slow]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    bindir = str(Path(sys.executable).parent)
    import importlib.util

    # The build backend from this environment when it has it (fast, offline), else pip's
    # isolated build. Either way the front end is not rebuilt: skip-if-exists finds it built.
    have_backend = all(
        importlib.util.find_spec(m)
        for m in ("hatchling", "hatch_jupyter_builder", "hatch_nodejs_version")
    )
    isolation = ["--no-build-isolation"] if have_backend else []
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", *isolation, "-q",
         "-w", str(out)],
        check=True, env={**os.environ, "PATH": f"{bindir}:/usr/bin:/bin", "HOME": str(out)},
    )  # fmt: skip
    return next(out.glob("jupyter_mlops-*.whl"))


@pytest.fixture(scope="module")
def prefix(wheel, tmp_path_factory) -> Path:
    """Unpack the wheel into a prefix the way an installer lays it out.

    Done by hand on purpose: ``pip install --prefix`` would uninstall the package from the
    environment running the tests.
    """
    target = tmp_path_factory.mktemp("prefix")
    site = target / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"
    data_prefix = "jupyter_mlops-0.1.0.data/data/"
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            if name.endswith("/"):
                continue
            dest = (
                target / name[len(data_prefix) :] if name.startswith(data_prefix) else site / name
            )
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(archive.read(name))
    return target


@pytest.fixture(scope="module")
def wheel_lab(prefix, tmp_path_factory):
    server = LabServer(tmp_path_factory.mktemp("wheel-lab"), prefix=prefix).start()
    yield server
    server.stop()


def test_the_wheel_carries_the_front_end_and_the_server_config(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    data = "jupyter_mlops-0.1.0.data/data/"
    assert f"{data}share/jupyter/labextensions/jupyter-mlops/static/style.js" in names
    assert f"{data}share/jupyter/labextensions/jupyter-mlops/package.json" in names
    assert f"{data}share/jupyter/labextensions/jupyter-mlops/install.json" in names
    assert (
        f"{data}share/jupyter/labextensions/jupyter-mlops/schemas/jupyter-mlops/plugin.json"
        in names
    )
    assert f"{data}etc/jupyter/jupyter_server_config.d/kernel_magics.json" in names
    assert "kernel_magics/server/openapi.yaml" in names
    # a directory named node_modules must not ship (rspack chunk names may contain the word)
    assert not any("node_modules/" in n or "tests/ui/artifacts" in n for n in names)


def test_the_prefix_alone_enables_both_extensions(wheel_lab):
    # The lab was started without --ServerApp.jpserver_extensions: the server extension is on
    # because the wheel's jupyter_server_config.d file says so.
    assert wheel_lab.api("status")["version"] == "0.1.0"
    bindir = Path(sys.executable).parent
    listing = subprocess.run([str(bindir / "jupyter"), "labextension", "list"],
                             env=wheel_lab.env, capture_output=True, text=True)  # fmt: skip
    out = listing.stdout + listing.stderr
    line = next(line for line in out.splitlines() if "jupyter-mlops" in line)
    assert "v0.1.0" in line and "enabled" in line and "OK" in line
    assert str(wheel_lab.prefix) in out


def test_the_panel_works_without_node(wheel_lab, browser):
    # Given a lab whose PATH has no node and which enabled nothing on its command line
    assert "node" not in [Path(d, "node").name for d in wheel_lab.env["PATH"].split(":")
                          if Path(d, "node").exists()]  # fmt: skip
    assert wheel_lab.api("status")["store_uri"].startswith("sqlite:")
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    page = context.new_page()
    try:
        # When the lab opens and the MLOps tab is clicked
        page.goto(f"{wheel_lab.url}/lab?token={wheel_lab.token}&reset")
        tab = page.locator('.jp-SideBar .lm-TabBar-tab[data-id="jp-mlops-panel"]')
        tab.wait_for(timeout=60_000)
        tab.click()
        # Then the panel shows and reaches the server extension (an empty store: no error)
        panel = page.locator(".jp-mlops-panel")
        panel.locator(".jp-mlops-empty").wait_for(timeout=60_000)
        assert "No runs yet" in panel.inner_text()
        assert panel.locator(".jp-mlops-error").count() == 0
    finally:
        context.close()
