"""The matplotlib figures a tracked cell draws, whether the cell shows, closes or leaves them.

``plt.show()`` under Jupyter's inline backend displays every open figure and then closes it, and
``plt.close(fig)`` closes one; a figure looked for only when the cell ends is gone by then. So
while a cell runs, :class:`FigureCapture` hooks the one place every close goes through
(``matplotlib._pylab_helpers.Gcf.destroy``/``destroy_all``: ``plt.close``, the inline backend's
``show``, a GUI window closing) and renders a figure to PNG just before it is destroyed; the
figures still open when the cell ends are rendered then. Each figure object is taken once, so a
cell that shows one figure and leaves another open stores two images, not three.

matplotlib is never imported here: when the cell imports it, an import hook installs the close
hook as soon as ``matplotlib._pylab_helpers`` has loaded.
"""

from __future__ import annotations

import importlib.abc
import io
import sys
from dataclasses import dataclass
from typing import Any

#: At most this many figures are stored per cell (a loop drawing 10,000 plots would flood the run).
MAX_FIGURES = 50
_HELPERS = "matplotlib._pylab_helpers"


@dataclass(frozen=True)
class StoredFigure:
    """One figure rendered for the run: its artifact path and PNG bytes."""

    path: str
    png: bytes


def figure_png(figure: Any, dpi: int = 100) -> bytes:
    """Render a matplotlib figure to PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return buffer.getvalue()


class FigureCapture:
    """Collect the figures drawn between :meth:`start` and :meth:`stop`, as PNGs.

    A figure counts when it was opened after :meth:`start`, or was open before and has been drawn
    on since (it is stale). Figures are named ``figures/figure-<number>.png`` after their pyplot
    number (``figure-1-2.png`` when a closed figure's number is used again in the same cell).

    Attributes
    ----------
    figures : list of StoredFigure
        What was rendered, in the order the figures were closed, then the ones left open.
    warnings : list of str
        One sentence per figure that could not be stored, and why.
    """

    def __init__(self) -> None:
        self.figures: list[StoredFigure] = []
        self.warnings: list[str] = []
        self._before: dict[int, Any] = {}  # pyplot number -> figure object open at start
        self._was_stale: list[Any] = []
        self._taken: set[int] = set()  # id() of each figure already rendered or refused
        self._keep: list[Any] = []  # the taken figures, so their ids cannot be reused
        self._paths: set[str] = set()
        self._originals: dict[str, Any] = {}
        self._finder: _AfterImport | None = None
        self._skipped = 0

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        """Remember the open figures and hook figure closing (now, or when matplotlib loads)."""
        helpers = sys.modules.get(_HELPERS)
        if helpers is None:
            self._finder = _AfterImport(_HELPERS, self._hook_on_import)
            sys.meta_path.insert(0, self._finder)
            return
        self._before = {num: m.canvas.figure for num, m in helpers.Gcf.figs.items()}
        # A figure an earlier cell drew and nothing rendered since (any backend but inline) is
        # still stale; clear the flag so that only drawing on it during this cell sets it again.
        self._was_stale = [f for f in self._before.values() if f.stale]
        for figure in self._was_stale:
            figure.stale = False
        self._hook(helpers)

    def stop(self) -> list[StoredFigure]:
        """Render the figures still open, remove the hooks and return every stored figure."""
        if self._finder is not None and self._finder in sys.meta_path:
            sys.meta_path.remove(self._finder)
        helpers = sys.modules.get(_HELPERS)
        if helpers is None:
            return self.figures
        try:
            for manager in list(helpers.Gcf.figs.values()):
                self._take(manager)
        finally:
            for name, original in self._originals.items():
                setattr(helpers.Gcf, name, original)
            self._originals.clear()
            for figure in self._was_stale:  # untouched: pending a redraw, as before the cell
                if not figure.stale:
                    figure.stale = True
        if self._skipped:
            self.warnings.append(
                f"{self._skipped} more figure(s) were not stored: at most {MAX_FIGURES} per cell"
            )
        return self.figures

    # -- the close hook -----------------------------------------------------------------------
    def _hook_on_import(self, helpers: Any) -> None:
        try:
            self._hook(helpers)
        except Exception as exc:  # noqa: BLE001 - must never break the cell's import
            self.warnings.append(
                f"figures closed or shown during the cell could not be captured: {exc!r}"
            )

    def _hook(self, helpers: Any) -> None:
        gcf = helpers.Gcf
        destroy, destroy_all = gcf.__dict__["destroy"], gcf.__dict__["destroy_all"]
        self._originals = {"destroy": destroy, "destroy_all": destroy_all}
        capture = self

        def hooked_destroy(cls: Any, num: Any) -> None:
            manager = num if hasattr(num, "canvas") else cls.figs.get(num)
            if manager is not None:
                capture._take(manager)
            destroy.__func__(cls, num)

        def hooked_destroy_all(cls: Any) -> None:
            for manager in list(cls.figs.values()):
                capture._take(manager)
            destroy_all.__func__(cls)

        gcf.destroy = classmethod(hooked_destroy)
        gcf.destroy_all = classmethod(hooked_destroy_all)

    def _take(self, manager: Any) -> None:
        # Never raises: a figure that cannot be rendered must not break the user's plt.close().
        try:
            figure, number = manager.canvas.figure, manager.num
        except AttributeError:
            return
        if id(figure) in self._taken:
            return
        if self._before.get(number) is figure and not getattr(figure, "stale", True):
            return  # open before the cell and not drawn on since: not this cell's figure
        self._taken.add(id(figure))
        self._keep.append(figure)
        if len(self.figures) >= MAX_FIGURES:
            self._skipped += 1
            return
        path = self._path(number)
        try:
            self.figures.append(StoredFigure(path, figure_png(figure)))
        except Exception as exc:  # noqa: BLE001 - reported in the run, never raised
            self.warnings.append(
                f"figure {number} could not be stored: {type(exc).__name__}: {exc}"
            )

    def _path(self, number: Any) -> str:
        path, copy = f"figures/figure-{number}.png", 1
        while path in self._paths:
            copy += 1
            path = f"figures/figure-{number}-{copy}.png"
        self._paths.add(path)
        return path


class _AfterImport(importlib.abc.MetaPathFinder):
    """Call ``callback(module)`` right after the module ``name`` is first imported."""

    def __init__(self, name: str, callback: Any):
        self.name = name
        self.callback = callback

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != self.name:
            return None
        sys.meta_path.remove(self)  # one shot; also keeps the lookup below from finding us
        spec = None
        for finder in list(sys.meta_path):  # whichever finder would have found it
            find = getattr(finder, "find_spec", None)
            spec = find(fullname, path, target) if find is not None else None
            if spec is not None:
                break
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        # Wrap this spec's own loader instance (created for this lookup), so the module keeps
        # its usual loader type.
        exec_module, callback = spec.loader.exec_module, self.callback

        def exec_then_call(module: Any) -> None:
            exec_module(module)
            callback(module)

        spec.loader.exec_module = exec_then_call  # type: ignore[method-assign]
        return spec
