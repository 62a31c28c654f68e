"""Real papermill executions of the fixture notebooks as tracked runs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from kernel_magics.core.runner import run_notebook
from kernel_magics.core.runner.kernels import _wait_for_shutdowns
from kernel_magics.errors import (
    FileMissingError,
    KernelNotFoundError,
    NotebookFormatError,
    ParametersCellError,
    ParameterTypeError,
    UnknownParameterError,
    ValidationError,
)

NOTEBOOKS = Path(__file__).parents[1] / "fixtures" / "notebooks"
# the `mlops` console script, run through this interpreter (independent of the venv's bin/)
MLOPS = [sys.executable, "-c", "from kernel_magics.cli import main; main()"]


def output_text(store, run_id: str) -> str:
    """Every stream output of the stored output notebook, joined."""
    data, _ = store.artifacts.read(run_id, "output.ipynb")
    nb = json.loads(data)
    texts = []
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            texts.append("".join(out.get("text", "")))
    return "".join(texts)


def kernel_children() -> list[psutil.Process]:
    _wait_for_shutdowns()
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            if "ipykernel" in " ".join(child.cmdline()):
                found.append(child)
        except psutil.NoSuchProcess:
            pass
    return found


def all_run_ids(store) -> list[str]:
    return store.search_runs().run_ids


def test_run_is_tracked_and_the_notebook_logs_into_it(store):
    result = run_notebook(NOTEBOOKS / "simple.ipynb", {"x": 5}, experiment="e1")

    assert result.status == "finished", result.error
    assert result.parameters == {"x": 5}
    assert all_run_ids(store) == [result.run_id]  # the notebook attached, no second run
    record = store.runs.get(result.run_id)
    assert (record.status, record.source, record.experiment) == ("finished", "papermill", "e1")
    assert record.params == {"x": "5", "name": "world"}  # given values and defaults
    assert record.metrics == {"double": 10.0}  # logged inside the kernel, before the end
    assert record.tags["mlops.kernel"] == "python3"
    assert record.environment_hash is not None
    assert record.end_time >= record.start_time
    from kernel_magics.core.notebooks import read_notebook_version_bytes

    stored = read_notebook_version_bytes(store, record.notebook_version_id)
    assert stored == (NOTEBOOKS / "simple.ipynb").read_bytes()
    assert {a["path"] for a in record.artifacts} == {"output.ipynb", "logs/stdout.log"}
    assert "hello world" in output_text(store, result.run_id)
    log, _ = store.artifacts.read(result.run_id, "logs/stdout.log")
    assert log.decode() == "hello world\n"
    executed = json.loads(Path(result.output_path).read_text())
    injected = [c for c in executed["cells"] if "injected-parameters" in c["metadata"]["tags"]]
    assert injected and "x = 5" in "".join(injected[0]["source"])
    assert executed["metadata"]["papermill"]["input_path"].endswith("simple.ipynb")
    assert kernel_children() == []


def test_typed_parameters_reach_the_notebook_with_their_types(store):
    from kernel_magics.core.runner import RunOptions
    from kernel_magics.core.runner.execute import run_one

    text = {"i": "3", "f": "1e-3", "b": "yes", "s": "a=b", "l": "[3, 4]", "d": "{'x': 2}",
            "n": "7", "a": "2"}  # fmt: skip
    result = run_one(NOTEBOOKS / "typed.ipynb", RunOptions(text_parameters=text))

    assert result.status == "finished", result.error
    data, _ = store.artifacts.read(result.run_id, "received.json")
    received = json.loads(data)
    assert received == {
        "i": ["int", 3], "f": ["float", 0.001], "b": ["bool", True], "s": ["str", "a=b"],
        "l": ["list", [3, 4]], "d": ["dict", {"x": 2}], "n": ["int", 7], "a": ["float", 2.0],
    }  # fmt: skip
    assert store.runs.get(result.run_id).params["s"] == "a=b"


def test_failing_cell_ends_failed_and_names_the_cell(store):
    result = run_notebook(NOTEBOOKS / "raises.ipynb")

    assert result.status == "failed"
    assert result.failed_cell == 2  # index in the input notebook (parameters cell is 0)
    assert "cell 2" in result.error and "ValueError: boom from the notebook" in result.error
    record = store.runs.get(result.run_id)
    assert (record.status, record.error) == ("failed", result.error)
    text = output_text(store, result.run_id)
    assert "first cell ran" in text and "never printed" not in text


@pytest.mark.parametrize(
    ("notebook", "status", "error"),
    [("sys_exit.ipynb", "failed", "SystemExit: 3"), ("sys_exit_zero.ipynb", "finished", None)],
)
def test_sys_exit(store, notebook, status, error):
    result = run_notebook(NOTEBOOKS / notebook)

    assert result.status == status
    if error:
        assert error in result.error and result.failed_cell == 1
    else:
        assert result.error is None
    text = output_text(store, result.run_id)
    assert "before exit" in text and "after" not in text


def test_kernel_death_ends_crashed_and_keeps_executed_cells(store):
    result = run_notebook(NOTEBOOKS / "dies.ipynb")

    assert result.status == "crashed"
    assert result.failed_cell == 1
    assert "kernel died in cell 1" in result.error
    record = store.runs.get(result.run_id)
    assert record.status == "crashed"
    assert record.metrics == {"before_death": 1.0}
    assert "about to die" in output_text(store, result.run_id)
    assert kernel_children() == []


@pytest.mark.slow
def test_timeout_interrupts_and_ends_killed(store):
    started = time.monotonic()
    result = run_notebook(NOTEBOOKS / "sleeps.ipynb", {"seconds": 120}, timeout=2)

    assert time.monotonic() - started < 30
    assert result.status == "killed"
    assert result.failed_cell == 2
    assert "Timed out after 2 s" in result.error
    assert store.runs.get(result.run_id).status == "killed"
    assert "sleeping 120" in output_text(store, result.run_id)


def test_the_timeout_counts_from_the_ready_kernel_not_its_boot():
    """On a loaded machine a kernel may boot for longer than --timeout: that is not the run's."""
    from kernel_magics.core.runner.execute import _Watchdog

    class Kernel:
        interrupts = 0
        has_kernel = False

        async def interrupt_kernel(self):
            Kernel.interrupts += 1

        async def cleanup_resources(self):
            pass

    watchdog = _Watchdog(Kernel(), timeout=0.3)
    with watchdog:
        time.sleep(1.0)  # still booting: the clock has not started
        assert not watchdog.fired and Kernel.interrupts == 0
        watchdog.start_clock()
        deadline = time.monotonic() + 5
        # `fired` is set just before the interrupt is sent: wait for both (a loaded machine
        # can leave the watchdog thread between the two)
        while not (watchdog.fired and Kernel.interrupts) and time.monotonic() < deadline:
            time.sleep(0.05)
    assert watchdog.fired and Kernel.interrupts == 1
    assert watchdog.reason() == "Timed out after 0.3 s (--timeout)"


def test_unicode_round_trips(store):
    result = run_notebook(NOTEBOOKS / "unicode.ipynb", {"greeting": "grüße ✓ 東京"})

    assert result.status == "finished", result.error
    record = store.runs.get(result.run_id)
    assert record.tags["greeting"] == "grüße ✓ 東京"
    assert record.params["greeting"] == "grüße ✓ 東京"
    assert "grüße ✓ 東京" in output_text(store, result.run_id)


def test_large_output_is_kept_in_the_log(store):
    result = run_notebook(NOTEBOOKS / "large_output.ipynb", {"lines": 30000})

    assert result.status == "finished", result.error
    log, _ = store.artifacts.read(result.run_id, "logs/stdout.log")
    lines = log.decode().splitlines()
    assert len(lines) == 30000 and lines[-1].startswith("line 029999")


def test_notebook_without_parameters_cell_runs_without_parameters(store):
    result = run_notebook(NOTEBOOKS / "no_parameters.ipynb")
    assert result.status == "finished", result.error
    assert "ran without parameters" in output_text(store, result.run_id)


@pytest.mark.parametrize(
    ("notebook", "kwargs", "error", "message"),
    [
        ("simple.ipynb", {"parameters": {"y": 1}}, UnknownParameterError, "known|defines: x, name"),
        ("simple.ipynb", {"parameters": {"x": "one"}}, ParameterTypeError, "'x' expects int"),
        ("broken.ipynb", {}, NotebookFormatError, "not valid notebook JSON"),
        ("missing_kernel.ipynb", {}, KernelNotFoundError, "'no-such-kernel-xyz' is not installed"),
        ("simple.ipynb", {"kernel": "nope"}, KernelNotFoundError, "installed: .*python3"),
        ("no_parameters.ipynb", {"parameters": {"x": 1}}, ParametersCellError, "tagged"),
        ("simple.ipynb", {"timeout": -1}, ValidationError, "positive number of seconds"),
        ("absent.ipynb", {}, FileMissingError, "No notebook at"),
    ],
)
def test_bad_input_is_rejected_before_any_kernel_or_run(store, notebook, kwargs, error, message):
    with pytest.raises(error, match=message):
        run_notebook(NOTEBOOKS / notebook, **kwargs)
    assert all_run_ids(store) == []
    assert kernel_children() == []


@pytest.mark.postgres
def test_run_against_postgres(pg_url, monkeypatch, _isolated_store):
    from kernel_magics.core.store import open_store

    monkeypatch.setenv("MLOPS_STORE_URI", pg_url)
    monkeypatch.setenv("MLOPS_ARTIFACTS_URI", str(_isolated_store / "artifacts"))
    result = run_notebook(NOTEBOOKS / "simple.ipynb", {"x": 21})

    assert result.status == "finished", result.error
    store = open_store()
    assert store.db.engine.dialect.name == "postgresql"
    assert store.runs.get(result.run_id).metrics == {"double": 42.0}


def test_output_dir_is_used(store, tmp_path):
    out = tmp_path / "executed"
    result = run_notebook(NOTEBOOKS / "simple.ipynb", output_dir=out)
    assert Path(result.output_path).parent == out
    assert Path(result.output_path).name == f"simple-{result.run_id[:8]}.ipynb"


@pytest.mark.slow
def test_cli_exit_codes_and_messages(tmp_path, _isolated_store):
    env = {**os.environ, "MLOPS_HOME": str(_isolated_store)}
    notebook = tmp_path / "raises.ipynb"
    shutil.copy(NOTEBOOKS / "raises.ipynb", notebook)

    failed = subprocess.run([*MLOPS, "run", str(notebook), "--no-progress", "-p", "x=2"],
                            capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    assert failed.returncode == 1, failed.stderr
    assert "failed" in failed.stdout and "ValueError: boom" in failed.stdout

    bad = subprocess.run([*MLOPS, "run", str(notebook), "-p", "nope=1"],
                         capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    assert bad.returncode == 2
    assert "Error: raises.ipynb has no parameter 'nope'" in bad.stderr

    ok = subprocess.run([*MLOPS, "run", str(NOTEBOOKS / "simple.ipynb"), "--json", "-p", "x=4"],
                        capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    payload = json.loads(ok.stdout)
    assert payload["status"] == "finished" and payload["parameters"] == {"x": 4}


def test_track_magic_inside_an_executed_notebook_logs_into_the_run(store):
    result = run_notebook(NOTEBOOKS / "track_magic.ipynb", {"lr": 0.25})

    assert result.status == "finished", result.error
    assert all_run_ids(store) == [result.run_id]
    record = store.runs.get(result.run_id)
    assert record.source == "papermill" and record.status == "finished"
    assert record.metrics == {"loss": 0.75}


def _start_sleeping_cli_run(store, home):
    """Start `mlops run sleeps.ipynb` in a subprocess; return it once the cell sleeps."""
    env = {**os.environ, "MLOPS_HOME": str(home)}
    proc = subprocess.Popen([*MLOPS, "run", str(NOTEBOOKS / "sleeps.ipynb"), "--no-progress"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip

    def sleeping():
        ids = all_run_ids(store)
        if not ids:
            return None
        out = Path(home / "outputs" / f"sleeps-{ids[0][:8]}.ipynb")
        return ids[0] if out.is_file() and "sleeping 60" in out.read_text() else None

    deadline = time.monotonic() + 60
    while (run_id := sleeping()) is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert run_id, proc.communicate(timeout=5)
    kernels = [p for p in psutil.Process(proc.pid).children(recursive=True)
               if "ipykernel" in _cmdline(p)]  # fmt: skip
    assert kernels
    return proc, run_id, kernels


def _cmdline(process) -> str:
    try:
        return " ".join(process.cmdline())
    except psutil.Error:  # a short-lived child that exited meanwhile (a zombie) is no kernel
        return ""


@pytest.mark.slow
def test_terminated_cli_run_ends_killed_and_stops_its_kernel(store, _isolated_store):
    import signal

    proc, run_id, kernels = _start_sleeping_cli_run(store, _isolated_store)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    record = store.runs.get(run_id)
    assert record.status == "killed"
    assert "Interrupted" in record.error
    gone, alive = psutil.wait_procs(kernels, timeout=15)
    assert not alive


@pytest.mark.slow
def test_sigkilled_runner_is_reaped_crashed_and_its_kernel_exits(store, _isolated_store):
    import signal

    proc, run_id, kernels = _start_sleeping_cli_run(store, _isolated_store)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    # Nobody could end it, but a read already shows it crashed (derived: its process is gone)...
    assert store.runs.get(run_id).status == "crashed"
    assert store.runs.reap() == [run_id]  # ...and the reaper, the one writer, persists that
    record = store.runs.get(run_id)
    assert record.status == "crashed"
    gone, alive = psutil.wait_procs(kernels, timeout=30)  # the orphaned kernel exits by itself
    assert not alive
