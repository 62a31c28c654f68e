"""``%mlops compare`` asks JupyterLab to open its Compare view (a display output with our MIME type)."""

from __future__ import annotations

import re
import time
from pathlib import Path

from IPython.utils.capture import capture_output
from magics_helpers import last_run, run

from kernel_magics.kernel.widgets.run_reports import COMPARE_MIME_TYPE

ROOT = Path(__file__).resolve().parents[2]


def test_compare_displays_a_request_for_the_compare_view_and_returns_the_report(shell):
    run(shell, "%%mlops track --experiment exp\nC = 0.1")
    first = last_run()
    run(shell, "%%mlops track --experiment exp\nC = 1.0")
    second = last_run()
    with capture_output() as captured:
        # prefixes, as a user types them: the request carries the full ids, baseline first
        report = shell.run_line_magic("mlops", f"compare {second.id[:8]} {first.id[:8]}")
    requests = [o.data for o in captured.outputs if COMPARE_MIME_TYPE in o.data]
    assert len(requests) == 1
    request = requests[0][COMPARE_MIME_TYPE]
    assert request["run_ids"] == [second.id, first.id]
    assert abs(time.time() - request["created_at"]) < 30  # fresh: the panel opens it
    assert "Compare view of 2 runs" in requests[0]["text/plain"]
    # the notebook report is still the cell's result
    assert "Why these runs differ" in report._repr_html_()


def test_the_front_end_listens_for_the_same_mime_type():
    source = (ROOT / "extension/src/compare/plugin.ts").read_text()
    match = re.search(r"COMPARE_MIME_TYPE =\s*'([^']+)'", source)
    assert match and match.group(1) == COMPARE_MIME_TYPE
