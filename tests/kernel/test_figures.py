"""Figures a ``%%mlops track`` cell draws are stored whether the cell shows, closes or leaves them.

These run in an InteractiveShell switched to Jupyter's inline backend (``%matplotlib inline``), the
backend a notebook kernel uses, where ``plt.show()`` displays the figures and then closes them.
The real-kernel path (a notebook under ``mlops run``) is in test_real_kernel.py.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from magics_helpers import last_run, run

from kernel_magics.core.store import open_store


@pytest.fixture
def inline(shell, monkeypatch):
    """The shell with the inline backend and pyplot imported as ``plt``."""
    # A bare InteractiveShell has no GUI event loop to enable; the kernel's does nothing for
    # "inline" either.
    monkeypatch.setattr(shell, "enable_gui", lambda gui=None: None)
    assert run(shell, "%matplotlib inline").success
    assert run(shell, "import matplotlib.pyplot as plt").success
    return shell


def _figures(record) -> dict[str, bytes]:
    store = open_store()
    return {
        a["path"]: store.artifacts.read(record.id, a["path"])[0]
        for a in record.artifacts
        if a["path"].startswith("figures/")
    }


def test_a_figure_shown_with_plt_show_is_stored(inline):
    # When: the last line of every scikit-learn gallery example
    result = run(inline, "%%mlops track\nplt.plot([1, 2, 3])\nplt.title('shown')\nplt.show()")
    # Then: the figure was displayed and closed by the backend, and it is in the run
    assert result.success
    figures = _figures(last_run())
    assert list(figures) == ["figures/figure-1.png"]
    assert figures["figures/figure-1.png"].startswith(b"\x89PNG")
    import matplotlib.pyplot as plt

    assert plt.get_fignums() == []  # the backend closed it, as without the magic


def test_shown_and_left_open_figures_are_each_stored_once(inline):
    # Given: one figure shown (closed by show), then a second one left open; pyplot gives the
    # second one the freed number 1 again
    run(
        inline,
        "%%mlops track\nplt.plot([1, 2, 3])\nplt.show()\n"
        "plt.figure(); plt.plot([3, 2, 1])\nplt.gcf().canvas.draw()",
    )
    figures = _figures(last_run())
    # Then: two images, two names, no duplicate
    assert sorted(figures) == ["figures/figure-1-2.png", "figures/figure-1.png"]
    assert figures["figures/figure-1.png"] != figures["figures/figure-1-2.png"]


def test_a_figure_the_cell_closes_is_stored(inline):
    run(
        inline,
        "%%mlops track\nfig, ax = plt.subplots()\nax.plot([0, 1])\n"
        "fig.savefig('plot.png')\nplt.close(fig)",
    )
    assert list(_figures(last_run())) == ["figures/figure-1.png"]


def test_plt_close_all_and_display_of_the_same_figure_store_it_once(inline):
    run(
        inline,
        "%%mlops track\nfrom IPython.display import display\nfig = plt.figure()\n"
        "plt.plot([1, 2])\ndisplay(fig)\nplt.show()\nplt.close('all')",
    )
    assert list(_figures(last_run())) == ["figures/figure-1.png"]


def test_figures_of_earlier_cells_are_not_stored_again(inline):
    run(inline, "%%mlops track --name first\nplt.plot([1, 2])")
    assert len(_figures(last_run())) == 1
    run(inline, "%%mlops track --name second\nx = 1")
    assert _figures(last_run()) == {}


def test_a_figure_left_open_by_an_earlier_cell_counts_only_when_drawn_on(shell):
    # Given: the Agg backend, where figures stay open (and stale) between cells
    run(shell, "import matplotlib.pyplot as plt\nplt.plot([1, 2])")
    # When / Then: a cell that does not touch it does not store it, and leaves it stale
    run(shell, "%%mlops track --name other\nx = 1")
    assert _figures(last_run()) == {}
    import matplotlib.pyplot as plt

    assert plt.gcf().stale
    # a cell that draws on it does
    run(shell, "%%mlops track --name more\nplt.plot([2, 1])")
    assert list(_figures(last_run())) == ["figures/figure-1.png"]


def test_the_close_hooks_are_removed_after_the_cell(inline):
    from matplotlib._pylab_helpers import Gcf

    before = (Gcf.__dict__["destroy"], Gcf.__dict__["destroy_all"])
    run(inline, "%%mlops track\nplt.plot([1])\nplt.show()")
    assert (Gcf.__dict__["destroy"], Gcf.__dict__["destroy_all"]) == before
    run(inline, "%%mlops track\nraise ValueError('boom')")  # a failing cell too
    assert (Gcf.__dict__["destroy"], Gcf.__dict__["destroy_all"]) == before
    # and --no-figures does not hook at all
    run(inline, "%%mlops track --no-figures\nplt.plot([1])\nplt.show()")
    assert _figures(last_run()) == {}


def test_a_figure_that_cannot_be_rendered_is_named_in_the_runs_warnings(shell, capsys):
    # Given: the Agg backend (the figure stays open) and a title mathtext cannot parse
    run(shell, "import matplotlib.pyplot as plt")
    result = run(
        shell,
        "%%mlops track\nplt.plot([1, 2])\nplt.title(r'$\\frac{1$')\n"
        "good = plt.figure(); plt.plot([2, 1])",
    )
    # Then: the cell succeeds, the good figure is stored, the bad one is reported in the run
    assert result.success
    record = last_run()
    assert list(_figures(record)) == ["figures/figure-2.png"]
    warnings = record.tags["mlops.warnings"].splitlines()
    assert len(warnings) == 1 and warnings[0].startswith("figure 1 could not be stored: ")
    assert "figure 1 could not be stored" in capsys.readouterr().err
    from kernel_magics.core.names import run_warnings

    assert run_warnings(record.tags) == warnings  # what the panel and `runs show` print


def test_at_most_max_figures_are_stored_and_the_rest_is_said(inline, monkeypatch):
    from kernel_magics.core import figures

    monkeypatch.setattr(figures, "MAX_FIGURES", 2)
    run(inline, "%%mlops track\nfor i in range(4):\n    plt.plot([i, 1])\n    plt.show()")
    record = last_run()
    assert len(_figures(record)) == 2
    assert record.tags["mlops.warnings"] == ("2 more figure(s) were not stored: at most 2 per cell")


def test_pyplot_imported_inside_the_cell_is_captured(tmp_path):
    # A fresh interpreter, where matplotlib is first imported while the capture runs: the
    # import hook installs the close hook as soon as matplotlib._pylab_helpers has loaded.
    code = (
        "import sys\n"
        "from kernel_magics.core.figures import FigureCapture\n"
        "capture = FigureCapture(); capture.start()\n"
        "assert 'matplotlib' not in sys.modules\n"
        "import matplotlib; matplotlib.use('Agg')\n"
        "import matplotlib.pyplot as plt\n"
        "plt.plot([1, 2]); plt.close('all')\n"
        "fig = plt.figure(); plt.plot([2, 1])\n"
        "print(sorted(f.path for f in capture.stop()))\n"
        "print(all(not isinstance(f, type(capture._finder)) for f in sys.meta_path))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    ).stdout.splitlines()
    assert out == ["['figures/figure-1-2.png', 'figures/figure-1.png']", "True"]
