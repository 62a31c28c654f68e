"""``mlops report`` / ``%mlops report``: one self-contained file about runs, on a real store.

The runs come from :mod:`report_fixtures` (two runs that differ in a param, their curves,
environments, cell sources and notebook versions; one marked unordered). The HTML is parsed to
check that nothing in it points off the machine.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from html_urls import external, page_urls

from kernel_magics.cli import cli

MLOPS = str(Path(sys.executable).with_name("mlops"))
SECTIONS = ("summary", "params", "metrics", "datasets", "environment", "code", "notebooks", "notes")


def run_cli(*args: str):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def test_html_report_has_every_section_and_fetches_nothing(two_runs, tmp_path):
    # Given two runs that differ
    out = tmp_path / "report.html"
    # When
    result = run_cli("report", *two_runs, "-o", str(out))
    # Then one file, self-contained
    assert f"Wrote {out}" in result.output
    html = out.read_text()
    urls, scripts = page_urls(html)
    assert external(urls) == []
    assert scripts == []
    assert all(u.startswith(("#", "data:")) for u in urls), urls
    for section in SECTIONS:
        assert f'<section id="{section}">' in html
    # the param that differs is highlighted; the one that does not is not
    assert re.search(r'<tr class="mlops-differs">\s*<td class="mlops-text">C</td>', html)
    assert re.search(r'<tr>\s*<td class="mlops-text">seed</td>', html)
    # one overlaid chart per metric with a curve, as an inline SVG
    assert html.count('<img src="data:image/svg+xml;base64,') == 1
    assert 'alt="loss by step"' in html
    # the unordered warning, the environment difference, the code diff
    assert "Unordered: cell 2 ran before cell 1." in html
    assert "package pandas" in html and "2.2.0" in html and "3.1.0" in html
    assert "-model = LogisticRegression(C=0.1).fit(X, y)" in html
    assert "+model = LogisticRegression(C=1.0).fit(X, y)" in html
    # the notebook versions rendered: markdown, code, the image output embedded
    assert "<h1" in html and "Churn model" in html
    assert "the wiki" in html  # the link's text stays, its external href is gone
    assert "data:image/png;base64," in html
    assert "Notebook version 1 &rarr; 2" in html


def test_markdown_report_writes_its_charts_next_to_it(two_runs, tmp_path):
    out = tmp_path / "pr" / "report.md"
    out.parent.mkdir()
    result = run_cli("report", two_runs[0][:8], two_runs[1][:8], "-o", str(out))
    text = out.read_text()
    chart = out.parent / "report_files" / "metric-loss.svg"
    assert "+1 chart files in report_files/" in result.output
    assert chart.read_bytes().startswith(b"<?xml") and b"<svg" in chart.read_bytes()
    assert "![loss by step](report_files/metric-loss.svg)" in text
    assert "| ≠ | C | 0.1 | 1.0 |" in text
    assert "|  | seed | 1 | 1 |" in text
    assert "> **Warning (" in text and "Unordered: cell 2 ran before cell 1." in text
    assert "```diff\n--- run " in text
    for heading in ("## Params", "## Metrics", "## Datasets", "## Environment", "## Code",
                    "## Notebooks", "## Notes"):  # fmt: skip
        assert f"\n{heading}\n" in text


@pytest.mark.parametrize(
    ("by", "expected"), [("metrics.auc", ["C=1.0", "C=0.1"]), ("metrics.auc ASC", ["C=0.1"])]
)
def test_leaderboard_ranks_an_experiments_runs(two_runs, tmp_path, by, expected):
    out = tmp_path / "board.md"
    top = str(len(expected))
    run_cli("report", "--experiment", "churn", "--top", top, "--by", by, "-o", str(out))
    text = out.read_text()
    board = text.split("## Leaderboard", 1)[1].split("## Summary", 1)[0]
    rows = [line for line in board.splitlines() if line.startswith("| ") and "Rank" not in line]
    assert [row.split(" | ")[2] for row in rows] == expected
    assert f"top {len(expected)} by metrics.auc" in board


def test_a_run_without_its_notebook_blob_still_reports(two_runs, store, tmp_path):
    # Given the notebook content was pruned (mlops gc) but the runs stay
    from kernel_magics.core.notebooks import get_notebook_version

    digest = get_notebook_version(store, 1).blob_hash
    blobs = list((tmp_path / ".mlops" / "artifacts" / "blobs").rglob(digest[2:]))
    assert len(blobs) == 1
    blobs[0].unlink()
    out = tmp_path / "r.html"
    run_cli("report", *two_runs, "-o", str(out))
    assert "Could not render it" in out.read_text()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["RUN", "-o", "report.txt"], "Cannot tell the format from 'report.txt'"),
        (["RUN", "-o", "report.html", "--format", "pdf"], "Invalid value for '--format'"),
        (["-o", "report.html"], "Name the runs to report"),
        (["RUN", "--experiment", "churn", "--by", "metrics.auc", "-o", "r.html"], "not both"),
        (["--experiment", "churn", "-o", "r.html"], "needs --by"),
        (["--experiment", "churn", "--by", "params.C", "-o", "r.html"], "--by takes a metric"),
        (["--experiment", "churn", "--by", "metrics.f1", "-o", "r.html"], "logged the metric 'f1'"),
        (["--experiment", "nope", "--by", "metrics.auc", "-o", "r.html"], "No experiment named"),
        (["--experiment", "churn", "--by", "metrics.auc", "--top", "0", "-o", "r.html"],
         "--top must be between 1 and 20"),
        (["ffffffff", "-o", "r.html"], "ffffffff"),
        (["RUN", "-o", "missing/r.html"], "does not exist: create it"),
    ],
)  # fmt: skip
def test_bad_input_is_one_clear_line_and_writes_nothing(two_runs, tmp_path, args, message):
    args = [two_runs[0] if a == "RUN" else a for a in args]
    result = subprocess.run([MLOPS, "report", *args], cwd=tmp_path, capture_output=True,
                            text=True, timeout=60)  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.glob("*.html")) == [] and list(tmp_path.glob("*.md")) == []


def test_the_magic_writes_the_same_report(two_runs, tmp_path, monkeypatch):
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    monkeypatch.chdir(tmp_path)
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    InteractiveShell.clear_instance()
    shell = InteractiveShell.instance(config=config)
    try:
        shell.run_line_magic("load_ext", "kernel_magics")
        report = shell.run_line_magic("mlops", f"report {two_runs[0]} {two_runs[1]} -o r.html")
        assert report.data["files"] == [str(Path("r.html"))]
        assert "<a href='r.html' target='_blank'>" in report._repr_html_()
        assert '<section id="notebooks">' in (tmp_path / "r.html").read_text()
        board = shell.run_line_magic(
            "mlops", "report --experiment churn --by metrics.auc --top 2 -o b.md"
        )
        assert "## Leaderboard" in Path(board.data["files"][0]).read_text()
    finally:
        shell.history_manager.end_session()
        InteractiveShell.clear_instance()
