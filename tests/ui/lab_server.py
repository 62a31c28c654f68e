"""Start a real ``jupyter lab`` for the browser tests, isolated in a temporary folder.

The lab serves the freshly built front end (``kernel_magics/labextension``, linked through
``JUPYTER_PATH`` so the installed copy is not touched), enables the ``kernel_magics`` server
extension on the command line, and keeps its own settings, workspaces and store (``MLOPS_HOME``).
Also usable by hand: ``python tests/ui/lab_server.py`` prints the URL and waits.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LABEXTENSION = REPO / "kernel_magics" / "labextension"
NOTEBOOKS = Path(__file__).parent / "notebooks"
CHROMIUM = os.environ.get("MLOPS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip

#: No news toast, no update check: they would cover the screenshots.
OVERRIDES = {
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
    "jupyter-mlops:plugin": {"refreshInterval": 1, "maxRefreshInterval": 4},
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabServer:
    """A ``jupyter lab`` process on 127.0.0.1 with its own folders.

    Parameters
    ----------
    base : Path
        An empty folder to hold the root, the store, settings and logs.
    prefix : Path, optional
        An installation prefix of the wheel (``pip install --prefix``). The lab then takes the
        package, the front end and the server config only from there, with no Node on PATH
        and nothing enabled on the command line: what an end user's install gets.
    env : dict, optional
        Variables set on the lab's environment after the inherited ``MLOPS_*`` ones are cleared,
        e.g. ``MLOPS_STORE_URI`` and ``MLOPS_ARTIFACTS_URI`` for a store shared with another lab.
        None (the default): the lab's own SQLite store under its ``MLOPS_HOME``.
    """

    def __init__(self, base: Path, prefix: Path | None = None, env: dict[str, str] | None = None):
        self.base = base
        self.prefix = prefix
        self.extra_env = dict(env or {})
        self.root = base / "root"
        self.home = base / ".mlops"
        self.port = _free_port()
        self.token = "mlops-ui-test"
        self.process: subprocess.Popen | None = None
        self.log_path = base / "lab.log"

    @property
    def url(self) -> str:
        """The lab's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def _prepare(self) -> dict[str, str]:
        if self.prefix is not None:
            return self._prepare_prefix()
        if not (LABEXTENSION / "package.json").exists():
            raise RuntimeError(
                f"{LABEXTENSION} is missing: build the front end first "
                "(cd extension && jlpm install && jlpm build)."
            )
        self._prepare_common()
        data = self.base / "data"
        (data / "labextensions").mkdir(parents=True)
        (data / "labextensions" / "jupyter-mlops").symlink_to(LABEXTENSION)
        env = {**os.environ, "MLOPS_HOME": str(self.home), "JUPYTER_PATH": str(data),
               "JUPYTER_CONFIG_DIR": str(self.base / "config"),
               "JUPYTER_RUNTIME_DIR": str(self.base / "runtime")}  # fmt: skip
        for var in ("MLOPS_STORE_URI", "MLOPS_ARTIFACTS_URI", "MLOPS_RUN_ID"):
            env.pop(var, None)
        return env

    def _prepare_common(self) -> Path:
        self.root.mkdir(parents=True)
        for notebook in NOTEBOOKS.glob("*.ipynb"):
            shutil.copy(notebook, self.root / notebook.name)
        settings = self.base / "app-settings"
        settings.mkdir()
        (settings / "overrides.json").write_text(json.dumps(OVERRIDES))
        return settings

    def _prepare_prefix(self) -> dict[str, str]:
        assert self.prefix is not None
        self._prepare_common()
        site = next(self.prefix.glob("lib/python*/site-packages"))
        path = [d for d in os.environ.get("PATH", "").split(os.pathsep)
                if d and not (Path(d) / "node").exists()]  # fmt: skip
        env = {**os.environ, "MLOPS_HOME": str(self.home), "PYTHONPATH": str(site),
               "JUPYTER_PATH": str(self.prefix / "share" / "jupyter"),
               "JUPYTER_CONFIG_PATH": str(self.prefix / "etc" / "jupyter"),
               "JUPYTER_CONFIG_DIR": str(self.base / "config"),
               "JUPYTER_RUNTIME_DIR": str(self.base / "runtime"),
               "PATH": os.pathsep.join(path)}  # fmt: skip
        for var in ("MLOPS_STORE_URI", "MLOPS_ARTIFACTS_URI", "MLOPS_RUN_ID"):
            env.pop(var, None)
        return env

    def start(self, timeout: float = 60) -> LabServer:
        """Start the lab and wait until it answers."""
        env = {**self._prepare(), **self.extra_env}
        bindir = Path(sys.executable).parent
        args = [
            str(bindir / "jupyter-lab"), "--no-browser", "--ip=127.0.0.1", f"--port={self.port}",
            f"--ServerApp.root_dir={self.root}", f"--IdentityProvider.token={self.token}",
            f"--LabApp.app_settings_dir={self.base / 'app-settings'}",
            f"--LabApp.user_settings_dir={self.base / 'user-settings'}",
            f"--LabApp.workspaces_dir={self.base / 'workspaces'}",
        ]  # fmt: skip
        if self.prefix is None:  # an end-user install enables it through jupyter-config
            args.append("--ServerApp.jpserver_extensions={'kernel_magics': True}")
            env["PATH"] = f"{bindir}{os.pathsep}{env.get('PATH', '')}"
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            args.append("--allow-root")
        self.env = env
        log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
        self._log = log
        deadline = time.time() + timeout
        request = urllib.request.Request(
            f"{self.url}/mlops/api/status", headers={"Authorization": f"token {self.token}"}
        )
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"jupyter lab exited early:\n{self.log_path.read_text()[-3000:]}"
                )
            try:
                with urllib.request.urlopen(request, timeout=2) as response:
                    json.loads(response.read())
                return self
            except OSError:
                if time.time() > deadline:
                    self.stop()
                    raise RuntimeError(f"jupyter lab did not answer in {timeout} s") from None
                time.sleep(0.3)

    def stop(self) -> None:
        """Stop the lab process (the one this object started)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if getattr(self, "_log", None):
            self._log.close()

    def send(self, method: str, path: str, body: dict | None = None) -> dict:
        """Send a JSON request (POST, PUT...) to a ``/mlops/api`` route and decode the answer."""
        request = urllib.request.Request(
            f"{self.url}/mlops/api/{path}", method=method,
            data=json.dumps(body or {}).encode(),
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def api(self, path: str) -> dict:
        """GET a ``/mlops/api`` route and decode it."""
        request = urllib.request.Request(
            f"{self.url}/mlops/api/{path}", headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        server = LabServer(Path(tmp)).start()
        print(f"{server.url}/lab?token={server.token}  (Ctrl+C to stop)")
        try:
            server.process.wait()
        except KeyboardInterrupt:
            server.stop()
