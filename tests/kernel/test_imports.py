"""``%load_ext kernel_magics`` stays light: nothing heavy is imported until used."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

HEAVY = ["pandas", "matplotlib", "sqlalchemy", "papermill", "tornado", "jupyter_server",
         "ipywidgets", "sklearn", "numpy"]  # fmt: skip


def test_load_ext_imports_nothing_heavy():
    code = (
        "import sys, json\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "before = set(sys.modules)\n"
        "sh = InteractiveShell.instance()\n"
        "sh.run_line_magic('load_ext', 'kernel_magics')\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules and m not in before)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


#: What `mlops runs ls/show` must not import: start-up is most of their time (issue 13).
CLI_HEAVY = ["pandas", "papermill", "matplotlib", "fastapi", "uvicorn", "IPython", "sklearn",
             "jupyter_server", "tornado", "nbclient", "ipywidgets"]  # fmt: skip


def _cli_imports(args: list[str]) -> tuple[str, list[str]]:
    code = (
        "import json, sys\n"
        "from kernel_magics.cli import main\n"
        f"sys.argv = ['mlops', *{args!r}]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        f"print(json.dumps(sorted(m for m in {CLI_HEAVY!r} if m in sys.modules)), file=sys.stderr)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "COLUMNS": "120"})  # fmt: skip
    return out.stdout, json.loads(out.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize("show", [False, True], ids=["runs ls", "runs show"])
def test_mlops_runs_ls_and_show_import_nothing_heavy(show):
    import kernel_magics as mlops

    with mlops.start_run(experiment="light-cli", name="quick", params={"C": 0.1}) as run:
        mlops.log_metric("acc", 0.9)
    from kernel_magics.core.store import close_stores

    close_stores()
    args = ["runs", "show", run.id] if show else ["runs", "ls"]
    stdout, heavy = _cli_imports(args)
    # the command did its job (the run is listed / shown) ...
    assert "quick" in stdout and "light-cli" in stdout
    # ... without importing any of the heavy modules
    assert heavy == []
