"""How long does the Compare view take to open for 50 runs with 1,000 points a metric?

Seeds 50 finished runs (4 params, 3 metrics of 1,000 points each, a tracked cell's source)
into a fresh store, starts a real ``jupyter lab`` with the built front end
(``tests/ui/lab_server.py``) and headless Chromium (Python Playwright), ticks the 50 runs in the
panel and times the click on Compare until the view is drawn: the params and metrics tables, the
three uPlot charts with 50 curves each and the scatter (``aria-busy`` false and every chart's
canvas present). Side by side, in the same run and on the same store: what ``%mlops compare``
computes and renders for the same runs (``core.compare.compare_runs`` and the notebook report
with its matplotlib overlay), the other way a user compares runs.

Usage::

    python benchmarks/bench_compare_browser.py [--runs 50] [--points 1000] [--repeat 5]

Target (issue 11): the comparison opens in at most 1 s. Build the front end first
(``cd extension && jlpm build``); Chromium is ``/usr/bin/chromium`` (``MLOPS_CHROMIUM``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(REPO / "tests" / "ui"))

from common import Table, timed  # noqa: E402
from lab_server import CHROMIUM, CHROMIUM_ARGS, LabServer  # noqa: E402

METRICS = ("loss", "acc", "f1")
PANEL_TAB = '.jp-SideBar .lm-TabBar-tab[data-id="jp-mlops-panel"]'
TIMEOUT = 120_000


def seed(home: Path, runs: int, points: int) -> list[str]:
    """Finished runs with params, ``points`` steps of each metric and a cell source."""
    from kernel_magics.core.config import resolve_location
    from kernel_magics.core.store import open_store

    store = open_store(resolve_location(environ={"MLOPS_HOME": str(home)}))
    exp = store.experiments.get_or_create("compare")
    ids, now = [], time.time()
    for i in range(runs):
        c = 10 ** (i % 5 - 2)
        run_id = store.runs.create(
            exp, name=f"run-{i:02d}", source="cell", start_time=now - runs + i,
            params={"C": c, "penalty": "l2", "seed": i, "layers": i % 3},
        )  # fmt: skip
        rows = [
            (run_id, key, step, now + step, (step + 1) ** -0.5 / (1 + k) + i / 1000)
            for k, key in enumerate(METRICS)
            for step in range(points)
        ]
        with store.db.write() as conn:
            store.runs.write_metrics(conn, rows)
        ref = store.blobs.put_bytes(f"C = {c}\nfit(C)\n".encode())
        store.artifacts.add(run_id, "cell/source.py", ref, "text/x-python")
        store.runs.finish(run_id, "finished")
        ids.append(run_id)
    return ids


def open_compare_seconds(lab: LabServer, ids: list[str], repeat: int) -> list[float]:
    """Click Compare with every run ticked; seconds until the whole view is drawn, each time."""
    from playwright.sync_api import sync_playwright

    timings = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"{lab.url}/lab?token={lab.token}&reset")
        page.locator(PANEL_TAB).click()
        panel = page.locator(".jp-mlops-panel")
        page.wait_for_function(
            f"() => document.querySelectorAll('.jp-mlops-run-row').length === {len(ids)}",
            timeout=TIMEOUT,
        )
        for run_id in ids:
            panel.locator(f'.jp-mlops-run-row[data-run-id="{run_id}"] input').check()
        done = (
            "() => { const v = document.querySelector('.jp-mlops-compare[aria-busy=\"false\"]');"
            f" return !!v && v.querySelectorAll('.jp-mlops-compare-chart canvas').length"
            f" === {len(METRICS)} && !!v.querySelector('.jp-mlops-scatter canvas'); }}"
        )
        for _ in range(repeat):
            started = time.perf_counter()
            panel.locator(".jp-mlops-compare-button").click()
            page.wait_for_function(done, timeout=TIMEOUT, polling="raf")
            timings.append(time.perf_counter() - started)
            # where the time went: the two run_comparisons requests (table, then curves)
            requests = page.evaluate(
                "() => performance.getEntriesByType('resource')"
                ".filter(e => e.name.includes('run_comparisons'))"
                ".map(e => [Math.round(e.duration), e.transferSize || e.encodedBodySize])"
            )
            page.evaluate("() => performance.clearResourceTimings()")
            print(f"  opened in {timings[-1]:.3f} s; run_comparisons (ms, bytes): {requests}",
                  flush=True)  # fmt: skip
            # close the tab (the next click opens a fresh one)
            page.locator(
                ".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current .lm-TabBar-tabCloseIcon"
            ).click()
            page.wait_for_selector(".jp-mlops-compare", state="detached", timeout=TIMEOUT)
        browser.close()
    return timings


def report_seconds(home: Path, ids: list[str], repeat: int) -> list[float]:
    """What ``%mlops compare`` computes and renders for the same runs (HTML with a PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    from kernel_magics.core.compare import compare_runs
    from kernel_magics.core.config import resolve_location
    from kernel_magics.core.store import open_store
    from kernel_magics.kernel.widgets.run_reports import compare_report

    store = open_store(resolve_location(environ={"MLOPS_HOME": str(home)}))
    return [
        timed(lambda: compare_report(compare_runs(store, ids))._repr_html_()) for _ in range(repeat)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        lab = LabServer(Path(tmp))
        started = time.perf_counter()
        ids = seed(lab.home, args.runs, args.points)
        print(f"seeded {args.runs} runs x {len(METRICS)} metrics x {args.points} points "
              f"in {time.perf_counter() - started:.1f} s", flush=True)  # fmt: skip
        lab.start()
        try:
            browser = open_compare_seconds(lab, ids, args.repeat)
        finally:
            lab.stop()
        notebook = report_seconds(lab.home, ids, args.repeat)
    print("browser (s):", [round(t, 3) for t in browser])
    print("%mlops compare report (s):", [round(t, 3) for t in notebook])
    table = Table("Compare view (Chromium)", "%mlops compare report")
    table.add(
        f"open a comparison of {args.runs} runs, {len(METRICS)} metrics x {args.points} points"
        " (median)",
        statistics.median(browser),
        statistics.median(notebook),
        "≤ 1 s",
    )
    table.add("the same, slowest of the repeats", max(browser), max(notebook), "≤ 1 s")
    print()
    print(table.markdown())


if __name__ == "__main__":
    main()
