"""What a tracked cell tells us before and after it runs: its parameters and its place in history.

Plain Python (no IPython): the kernel side hands in the cell's source, the list of cells the
kernel executed and the notebook file's path; this module answers

* which variables the cell assigns from literal constants (``C = 0.1``, ``penalty = "l2"``),
  found with :mod:`ast` without running anything;
* whether the cells executed so far ran top to bottom without re-executing an earlier cell
  (the "hidden state" check), by locating each executed cell in the saved notebook, by cell id
  when the front end sent one (JupyterLab does) and by source otherwise;
* where the notebook file is (``JPY_SESSION_NAME``, set by Jupyter server in the kernel's
  environment) and, when it cannot be known, why.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: Environment variables that name the notebook a kernel serves, in order of trust.
SESSION_ENV_VARS = ("JPY_SESSION_NAME",)

IN_ORDER, UNORDERED, UNKNOWN = "in_order", "unordered", "unknown"


def source_hash(source: str) -> str:
    """SHA-256 hex digest of a cell's source (what ``mlops.cell.hash`` records)."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


# -- parameters ---------------------------------------------------------------------------------


def _literal(node: ast.AST) -> tuple[bool, Any]:
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False, None
    if isinstance(value, (set, frozenset, bytes)):
        return False, None
    return True, value


def _targets(target: ast.AST, value: ast.AST) -> list[tuple[str, ast.AST]]:
    if isinstance(target, ast.Name):
        return [(target.id, value)]
    if isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, (ast.Tuple, ast.List)):
        if len(target.elts) == len(value.elts):
            pairs = []
            for t, v in zip(target.elts, value.elts, strict=True):
                pairs += _targets(t, v)
            return pairs
    return []


def literal_assignments(source: str) -> dict[str, Any]:
    """Return the variables a cell assigns from literal constants at its top level.

    ``C = 0.1``, ``penalty = "l2"``, ``layers = [64, 32]``, ``a, b = 1, 2`` and ``n: int = 5``
    count; assignments inside functions, classes and loops do not (they are not the cell's
    knobs). A name assigned twice keeps the last literal; a name later assigned from a
    non-literal is dropped. ``_private`` names are skipped.

    Parameters
    ----------
    source : str
        Python source (IPython syntax already transformed to Python).

    Returns
    -------
    dict
        name -> value, in the order first assigned. Empty when the source does not parse.
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return {}
    found: dict[str, Any] = {}
    for stmt in _top_level(tree.body):
        pairs: list[tuple[str, ast.AST | None]] = []
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                hits = _targets(target, stmt.value)
                pairs += hits
                if not hits:
                    pairs += [(n.id, None) for n in ast.walk(target) if isinstance(n, ast.Name)]
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            pairs.append((stmt.target.id, stmt.value))
        elif isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name):
            pairs.append((stmt.target.id, None))
        for name, value_node in pairs:
            ok, value = _literal(value_node) if value_node is not None else (False, None)
            if ok and not name.startswith("_"):
                found[name] = value
            else:
                found.pop(name, None)
    return found


def _top_level(body: Sequence[ast.stmt]):
    # Assignments under a top-level ``with`` or ``if`` still run once per cell execution.
    for stmt in body:
        if isinstance(stmt, (ast.With, ast.If)):
            yield from _top_level(stmt.body)
            if isinstance(stmt, ast.If):
                yield from _top_level(stmt.orelse)
        else:
            yield stmt


def calls_names(source: str, names: Sequence[str]) -> bool:
    """Tell whether the source calls a function or method with one of ``names`` (``log_metric``)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return False
    wanted = set(names)
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in wanted:
                return True
    return False


def has_top_level_await(source: str) -> bool:
    """Tell whether the source uses ``await``/``async for``/``async with`` outside a function."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return False
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Await, ast.AsyncFor, ast.AsyncWith)):
            return True
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        stack.extend(ast.iter_child_nodes(node))
    return False


# -- the notebook file ------------------------------------------------------------------------


@dataclass(frozen=True)
class NotebookLocation:
    """Where the notebook of this kernel is, or why we do not know.

    Attributes
    ----------
    path : str or None
        Absolute path of the ``.ipynb`` file when known and present.
    reason : str
        How it was found, or why it could not be.
    """

    path: str | None
    reason: str

    @property
    def stem(self) -> str | None:
        """The notebook's file name without ``.ipynb`` (the default experiment name)."""
        if not self.path:
            return None
        name = os.path.basename(self.path)
        return name[: -len(".ipynb")] if name.endswith(".ipynb") else name


def locate_notebook(
    environ: Mapping[str, str] | None = None, namespace: Mapping[str, Any] | None = None
) -> NotebookLocation:
    """Find the notebook file this kernel serves, without guessing.

    Parameters
    ----------
    environ : mapping, optional
        The kernel's environment (``os.environ`` by default). Jupyter server sets
        ``JPY_SESSION_NAME`` to the notebook's path when it starts the kernel.
    namespace : mapping, optional
        The user namespace; VS Code puts the path in ``__vsc_ipynb_file__``.

    Returns
    -------
    NotebookLocation
        ``path`` is None when no source names an existing ``.ipynb`` file; ``reason`` says why.
    """
    env = os.environ if environ is None else environ
    candidates: list[tuple[str, str]] = []
    for var in SESSION_ENV_VARS:
        if env.get(var):
            candidates.append((env[var], f"from ${var}"))
    if namespace is not None and isinstance(namespace.get("__vsc_ipynb_file__"), str):
        candidates.append((namespace["__vsc_ipynb_file__"], "from VS Code (__vsc_ipynb_file__)"))
    if not candidates:
        return NotebookLocation(
            None,
            "the kernel was not started by Jupyter server for a notebook "
            "(JPY_SESSION_NAME is not set)",
        )
    for raw, how in candidates:
        for path in _spellings(os.path.expanduser(raw)):
            if path.endswith(".ipynb") and os.path.isfile(path):
                return NotebookLocation(path, how)
    raw, how = candidates[0]
    return NotebookLocation(None, f"{raw!r} ({how}) is not an existing .ipynb file")


def _spellings(raw: str) -> list[str]:
    # Jupyter server gives an absolute path, or the notebook's path relative to the server's
    # root when it was not told the file name; the kernel then runs in the notebook's folder,
    # so <cwd> ends with the relative folder and the file is <cwd>/<name>. Nothing else is tried.
    if os.path.isabs(raw):
        return [os.path.realpath(raw)]
    cwd = os.getcwd()
    spellings = [os.path.realpath(os.path.join(cwd, raw))]
    folder, name = os.path.split(os.path.normpath(raw))
    if folder and (cwd == folder or cwd.endswith(os.sep + folder)):
        spellings.append(os.path.realpath(os.path.join(cwd, name)))
    return spellings


def notebook_code_cells(path: str) -> list[tuple[str | None, str]]:
    """Return ``(cell_id, source)`` of each code cell of a notebook file, in file order."""
    try:
        with open(path, encoding="utf-8") as fh:
            content = json.load(fh)
    except (OSError, ValueError):
        return []
    cells = []
    for cell in content.get("cells", []) if isinstance(content, dict) else []:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            source = cell.get("source", "")
            cells.append((cell.get("id"), "".join(source) if isinstance(source, list) else source))
    return cells


# -- execution order (hidden state) ---------------------------------------------------------------


@dataclass
class ExecutedCell:
    """One cell execution the kernel saw.

    Attributes
    ----------
    execution_count : int
        The kernel's ``In[n]`` number.
    source : str
        The raw cell source as executed.
    cell_id : str or None
        The notebook cell id, when the front end sent it.
    position : int or None
        Index among the notebook's code cells, once located.
    """

    execution_count: int
    source: str
    cell_id: str | None = None
    position: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Compact JSON-ready form: execution count, notebook cell position and id."""
        return {"n": self.execution_count, "cell": self.position, "id": self.cell_id}


def compact_history(cells: Sequence[ExecutedCell]) -> str:
    """Return the executions as ``"n:cell"`` pairs, e.g. ``"1:1 2:2 3:5 4:?"``.

    ``In[n]`` ran the notebook's code cell number ``cell`` (1-based), ``?`` when it is not in the
    saved notebook.
    """
    return " ".join(
        f"{c.execution_count}:{'?' if c.position is None else c.position + 1}" for c in cells
    )


@dataclass
class OrderReport:
    """The verdict of :func:`analyze_execution_order`.

    Attributes
    ----------
    status : str
        ``in_order``, ``unordered`` or ``unknown``.
    reason : str
        One sentence explaining the status.
    cells : list of ExecutedCell
        The executions considered, with their located positions.
    """

    status: str
    reason: str
    cells: list[ExecutedCell] = field(default_factory=list)


def _locate(history: list[ExecutedCell], notebook: list[tuple[str | None, str]]) -> None:
    by_id = {cid: i for i, (cid, _) in enumerate(notebook) if cid}
    by_source: dict[str, list[int]] = {}
    for i, (_, src) in enumerate(notebook):
        by_source.setdefault(src.strip(), []).append(i)
    last = -1
    for cell in history:
        if cell.cell_id and cell.cell_id in by_id:
            cell.position = by_id[cell.cell_id]
        else:
            options = by_source.get(cell.source.strip(), [])
            after = [i for i in options if i > last]
            cell.position = after[0] if after else (options[0] if options else None)
        if cell.position is not None:
            last = cell.position


def analyze_execution_order(
    history: Sequence[ExecutedCell], notebook: list[tuple[str | None, str]] | None
) -> OrderReport:
    """Decide whether the cells executed so far ran top to bottom, each at most once.

    Parameters
    ----------
    history : sequence of ExecutedCell
        Every execution since the kernel started, oldest first; the last one is the cell being
        tracked.
    notebook : list of (cell_id, source), optional
        The code cells of the saved notebook (None when the file is unknown).

    Returns
    -------
    OrderReport
        ``unordered`` when a cell ran twice or a cell ran after one below it; ``unknown`` when
        the notebook is unknown (and nothing ran twice) or an earlier execution cannot be found
        in the saved file; ``in_order`` otherwise. The tracked cell itself may be missing from
        the file (edited and not yet saved): it then counts as running after the others.
    """
    cells = [ExecutedCell(c.execution_count, c.source, c.cell_id) for c in history]
    copies: dict[str, int] = {}  # identical cells in the file may each run once
    for _, src in notebook or []:
        copies[f"src:{src.strip()}"] = copies.get(f"src:{src.strip()}", 0) + 1
    seen: dict[str, int] = {}
    runs: dict[str, int] = {}
    for cell in cells:
        key = f"id:{cell.cell_id}" if cell.cell_id else f"src:{cell.source.strip()}"
        runs[key] = runs.get(key, 0) + 1
        if key in seen and runs[key] > copies.get(key, 1):
            return OrderReport(
                UNORDERED,
                f"In[{cell.execution_count}] re-executed the cell first run as In[{seen[key]}]",
                cells,
            )
        seen.setdefault(key, cell.execution_count)
    if notebook is None:
        return OrderReport(UNKNOWN, "the notebook file is unknown, so its order is too", cells)
    _locate(cells, notebook)
    last_pos, last_count = -1, None
    for index, cell in enumerate(cells):
        if cell.position is None:
            if index == len(cells) - 1:
                continue  # the tracked cell, maybe not saved yet
            return OrderReport(
                UNKNOWN,
                f"In[{cell.execution_count}] is not in the saved notebook (edited or deleted "
                "since it ran)",
                cells,
            )
        if cell.position <= last_pos:
            return OrderReport(
                UNORDERED,
                f"In[{cell.execution_count}] (cell {cell.position + 1}) ran after "
                f"In[{last_count}] (cell {last_pos + 1}), which is below it",
                cells,
            )
        last_pos, last_count = cell.position, cell.execution_count
    return OrderReport(IN_ORDER, "every cell ran once, top to bottom", cells)
