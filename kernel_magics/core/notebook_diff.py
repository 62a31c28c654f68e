"""The diff of two notebooks, computed by nbdime and shaped into what a reader compares.

nbdime (:func:`nbdime.diff_notebooks`) aligns the cells (by cell id when both notebooks carry
ids, what JupyterLab writes since nbformat 4.5, else by similar content), diffs each matched
cell's source line by line and its outputs one by one, and answers a JSON patch. This module
turns that patch into one entry per cell: ``unchanged``, ``changed`` (source and/or outputs),
``added``, ``removed``, or ``moved`` (nbdime reports a moved cell as removed at one place and
added at another; a pair with the same cell id, or the same type and source when there are no
ids, is one moved cell). Execution counts and metadata are not differences a reader looks for
and are left out. The outputs of a cell whose outputs changed carry what the panel renders:
their text MIME bundle (:func:`output_bundle`, rendered untrusted by JupyterLab's renderers)
and their images as typed fields (:func:`output_images`), each within a size budget.
"""

from __future__ import annotations

import base64
import binascii
import copy
from collections.abc import Iterator
from typing import Any

from .extras import require
from .store.blobs import hash_bytes

__all__ = [
    "BUNDLE_TYPES",
    "IMAGE_TYPES",
    "MAX_DIFF_DATA",
    "MAX_DIFF_IMAGE_BYTES",
    "MAX_IMAGE_BYTES",
    "MAX_OUTPUT_DATA",
    "MAX_OUTPUT_TEXT",
    "diff_notebooks",
    "output_bundle",
    "output_images",
    "summarize_output",
]

#: Outputs longer than this (characters) are cut in diffs: a diff is for reading, not storage.
MAX_OUTPUT_TEXT = 2000

#: Image MIME types a diff carries for the panel to draw, and how nbformat stores each one.
IMAGE_TYPES = {"image/png": "base64", "image/jpeg": "base64", "image/gif": "base64",
               "image/svg+xml": "text"}  # fmt: skip

#: Images bigger than this (decoded bytes) keep their placeholder: a diff is read, not archived.
MAX_IMAGE_BYTES = 1_000_000

#: All the images of one diff together stay under this (bytes), so a notebook of many re-drawn
#: figures answers a diff the browser can hold; the images past it keep their placeholder.
MAX_DIFF_IMAGE_BYTES = 8_000_000

#: MIME types of an output's bundle that a diff carries for the panel to render (untrusted,
#: through JupyterLab's own renderers: HTML sanitized, no script run). Text only: the images
#: travel in their own typed fields (:func:`output_images`), and other types (widgets,
#: JavaScript, JSON) are named by the output's summary.
BUNDLE_TYPES = ("text/html", "text/markdown", "text/latex", "text/plain")

#: How JupyterLab names a stream's and an error's text in a MIME bundle (its OutputModel does
#: the same), so the panel renders them with the standard ANSI-aware text renderers.
STDOUT, STDERR = "application/vnd.jupyter.stdout", "application/vnd.jupyter.stderr"

#: A MIME type's text longer than this (characters) is not carried in a bundle: cut HTML would
#: show a partial table as if whole. The output's summary text stands in, with a note.
MAX_OUTPUT_DATA = 200_000

#: All the bundles of one diff together stay under this (characters); the outputs past it show
#: their summary text with a note, as the images past :data:`MAX_DIFF_IMAGE_BYTES` do.
MAX_DIFF_DATA = 4_000_000

#: Keys of a cell or an output whose changes a diff does not report.
_IGNORED = {"execution_count", "metadata", "id", "attachments"}


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value or "")


def summarize_output(output: dict[str, Any]) -> dict[str, Any]:
    """Reduce one cell output to what a reader compares: its type, text and media types."""
    kind = output.get("output_type", "unknown")
    media: list[str] = []
    if kind == "stream":
        text = _text(output.get("text"))
    elif kind == "error":
        text = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"
    else:
        data = output.get("data") or {}
        media = sorted(k for k in data if k != "text/plain")
        text = _text(data.get("text/plain", ""))
        if any(m.startswith("image/") for m in media) and text.startswith("<"):
            text = ""  # "<Figure size ...>" / "<IPython...Image object>" says nothing
        for mime in media:
            if mime.startswith("image/"):
                digest = hash_bytes(_text(data[mime]).encode())[:10]
                text = f"{text}\n[{mime} {digest}]" if text else f"[{mime} {digest}]"
    if len(text) > MAX_OUTPUT_TEXT:
        text = text[:MAX_OUTPUT_TEXT] + f"... ({len(text) - MAX_OUTPUT_TEXT} more characters)"
    return {"output_type": kind, "text": text, "media": media}


def output_bundle(output: dict[str, Any]) -> tuple[dict[str, str], str | None]:
    """The MIME bundle of one output for the panel to render, and a note on what it left out.

    A ``display_data`` or ``execute_result`` gives its :data:`BUNDLE_TYPES`; a stream gives its
    text as :data:`STDOUT` or :data:`STDERR`; an error its traceback (ANSI colours kept) as
    :data:`STDERR`. A type whose text passes :data:`MAX_OUTPUT_DATA` is left out and the note
    says so (None when nothing was left out).
    """
    kind = output.get("output_type")
    if kind == "stream":
        bundle = {STDERR if output.get("name") == "stderr" else STDOUT: _text(output.get("text"))}
    elif kind == "error":
        traceback = "\n".join(output.get("traceback") or [])
        summary = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"
        bundle = {STDERR: traceback or summary}
    else:
        data = output.get("data") or {}
        bundle = {mime: _text(data[mime]) for mime in BUNDLE_TYPES if mime in data}
    too_long = [mime for mime, text in bundle.items() if len(text) > MAX_OUTPUT_DATA]
    if not too_long:
        return bundle, None
    for mime in too_long:
        del bundle[mime]
    note = (f"{', '.join(too_long)} too long to render (the diff renders up to "
            f"{MAX_OUTPUT_DATA // 1000:,} k characters); its text is cut")  # fmt: skip
    return bundle, note


def _with_bundle(output: dict[str, Any]) -> dict[str, Any]:
    data, note = output_bundle(output)
    return {**summarize_output(output), "data": data, "data_note": note}


def _without_bundle(output: dict[str, Any]) -> dict[str, Any]:
    return {**summarize_output(output), "data": {}, "data_note": None}


def _cap_bundles(entries: list[dict[str, Any]]) -> None:
    """Leave out the bundles past :data:`MAX_DIFF_DATA`, in reading order, with a note."""
    total = 0
    for entry in entries:
        for summary in entry["outputs_a"] + entry["outputs_b"]:
            size = sum(len(text) for text in summary["data"].values())
            if not size:
                continue
            total += size
            if total > MAX_DIFF_DATA:
                summary["data"] = {}
                summary["data_note"] = (
                    f"not rendered: this diff's outputs passed {MAX_DIFF_DATA // 1000:,} k "
                    "characters; its text is cut"
                )


def output_images(output: dict[str, Any]) -> list[dict[str, Any]]:
    """The images of one output, as the panel draws them.

    Each is ``{"mime", "encoding", "data", "size", "note"}``: ``encoding`` is ``base64`` (PNG,
    JPEG, GIF: ``data`` is the base64 nbformat stores, whitespace removed) or ``text`` (SVG:
    ``data`` is the SVG source); ``size`` is the image's bytes. An image over
    :data:`MAX_IMAGE_BYTES` or whose base64 does not decode has ``data`` None and a ``note``
    saying why, so the reader sees the reason instead of a blank.
    """
    data = output.get("data") or {}
    images = []
    for mime in sorted(m for m in data if m in IMAGE_TYPES):
        encoding, raw = IMAGE_TYPES[mime], _text(data[mime])
        image: dict[str, Any] = {"mime": mime, "encoding": encoding, "data": None, "note": None}
        if encoding == "base64":
            raw = "".join(raw.split())  # nbformat may wrap base64 in lines
            try:
                image["size"] = len(base64.b64decode(raw, validate=True))
            except (binascii.Error, ValueError):
                images.append({**image, "size": 0, "note": "not valid base64, not shown"})
                continue
        else:
            image["size"] = len(raw.encode())
        if image["size"] > MAX_IMAGE_BYTES:
            kb = round(image["size"] / 1024)
            image["note"] = f"image too large to show ({kb:,} kB; the diff shows up to "
            image["note"] += f"{MAX_IMAGE_BYTES // 1000:,} kB)"
        else:
            image["data"] = raw
        images.append(image)
    return images


def _cap_images(entries: list[dict[str, Any]]) -> None:
    """Leave out the images past :data:`MAX_DIFF_IMAGE_BYTES`, in reading order, with a note."""
    total = 0
    for entry in entries:
        for change in entry["output_changes"]:
            for image in change["images_a"] + change["images_b"]:
                if image["data"] is None:
                    continue
                total += image["size"]
                if total > MAX_DIFF_IMAGE_BYTES:
                    image["data"] = None
                    image["note"] = (
                        f"not shown: this diff's images passed {MAX_DIFF_IMAGE_BYTES // 1000:,} kB"
                        "; open the two notebooks to see it"
                    )


def _align(ops: list[dict[str, Any]], length: int) -> Iterator[tuple[int | None, int | None, Any]]:
    """Walk an nbdime sequence diff: yield ``(a_index, b_index, patch)`` per item.

    ``a_index`` is None for an added item, ``b_index`` None for a removed one; ``patch`` is
    nbdime's diff of a matched pair (None when the pair is equal).
    """
    inserts: dict[int, list[Any]] = {}
    removed: set[int] = set()
    patches: dict[int, Any] = {}
    for op in ops:
        if op["op"] == "addrange":
            inserts.setdefault(op["key"], []).extend(op["valuelist"])
        elif op["op"] == "removerange":
            removed.update(range(op["key"], op["key"] + op["length"]))
        elif op["op"] == "patch":
            patches[op["key"]] = op["diff"]
        else:  # nbdime answers only these three for sequences
            raise ValueError(f"unexpected sequence diff operation {op['op']!r}")
    b = 0
    for a in range(length + 1):
        # Items inserted before a removed one read as its replacement: removed first.
        if a in removed:
            yield a, None, None
        for _ in inserts.get(a, ()):
            yield None, b, None
            b += 1
        if a < length and a not in removed:
            yield a, b, patches.get(a)
            b += 1


def _line_diff(a: str, b: str, ops: list[dict[str, Any]] | None) -> list[dict[str, str]]:
    """Return nbdime's line diff of a source as ``{"op": " "|"-"|"+", "text"}`` lines.

    Within a block of changes the removed lines come before the added ones, as in a unified
    diff (nbdime reports an edited line as a patch of that line).
    """
    a_lines, b_lines = a.splitlines(keepends=True), b.splitlines(keepends=True)
    lines: list[dict[str, str]] = []
    minus: list[dict[str, str]] = []
    plus: list[dict[str, str]] = []
    for i, j, patch in _align(ops or [], len(a_lines)):
        if i is not None and j is not None and patch is None:
            lines += minus + plus
            minus, plus = [], []
            lines.append({"op": " ", "text": a_lines[i].rstrip("\r\n")})
            continue
        if i is not None:
            minus.append({"op": "-", "text": a_lines[i].rstrip("\r\n")})
        if j is not None:
            plus.append({"op": "+", "text": b_lines[j].rstrip("\r\n")})
    return lines + minus + plus


def _output_changes(
    a: list[dict[str, Any]], b: list[dict[str, Any]], ops: list[dict[str, Any]] | None
) -> list[dict[str, Any]]:
    """One entry per output added, removed or changed (by what changed in it)."""
    changes = []
    just_removed: dict[str, Any] | None = None  # the removal right before this item, if any
    for i, j, patch in _align(ops or [], len(a)):
        replaced, just_removed = just_removed, None
        if i is not None and j is not None:
            parts: set[str] = set()
            for op in patch or []:
                if op["key"] in _IGNORED:
                    continue
                if op["key"] == "data" and op["op"] == "patch":
                    parts.update(sub["key"] for sub in op["diff"])  # the MIME types changed
                else:
                    parts.add(op["key"])
            if parts:
                changes.append({"op": "changed", "a_index": i, "b_index": j,
                                "output_type": b[j].get("output_type", "unknown"),
                                "parts": sorted(parts), "images_a": output_images(a[i]),
                                "images_b": output_images(b[j])})  # fmt: skip
            continue
        output = a[i] if i is not None else b[j or 0]
        kind = output.get("output_type", "unknown")
        if j is not None and replaced and replaced["output_type"] == kind:
            # nbdime pairs outputs by similarity, so a re-drawn figure (all new image bytes)
            # comes as a removal and an addition; in the same place and of the same type it
            # is one output that changed, which is how a reader describes it.
            old = a[replaced["a_index"]]
            replaced.update(op="changed", b_index=j, parts=_changed_parts(old, output),
                            images_b=output_images(output))  # fmt: skip
            continue
        images = output_images(output)
        change = {"op": "removed" if j is None else "added", "a_index": i, "b_index": j,
                  "output_type": kind, "parts": summarize_output(output)["media"],
                  "images_a": images if j is None else [],
                  "images_b": [] if j is None else images}  # fmt: skip
        changes.append(change)
        if j is None:
            just_removed = change
    return changes


def _changed_parts(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """The keys that differ between two outputs, with ``data`` spelled as its MIME types."""
    parts: set[str] = set()
    for key in (set(a) | set(b)) - _IGNORED:
        if key == "data":
            data_a, data_b = a.get("data") or {}, b.get("data") or {}
            parts.update(m for m in set(data_a) | set(data_b) if data_a.get(m) != data_b.get(m))
        elif a.get(key) != b.get(key):
            parts.add(key)
    return sorted(parts)


def _entry(
    status: str, a: dict | None, b: dict | None, ai: int | None, bi: int | None,
    patch: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:  # fmt: skip
    by_key = {op["key"]: op for op in patch or []}
    source_a, source_b = _text(a and a.get("source")), _text(b and b.get("source"))
    outputs_a, outputs_b = (a or {}).get("outputs") or [], (b or {}).get("outputs") or []
    source_op = by_key.get("source")
    if source_op is not None and source_op["op"] == "patch":
        source_ops = source_op["diff"]
    elif a is None or b is None or source_op is not None:  # one side only, or a replaced value
        source_ops = [
            {"op": "removerange", "key": 0, "length": len(source_a.splitlines())},
            {"op": "addrange", "key": 0, "valuelist": source_b.splitlines()},
        ]
    else:
        source_ops = []
    outputs_op = by_key.get("outputs")
    if a is not None and b is not None:
        output_ops = outputs_op["diff"] if outputs_op else []
    elif b is not None:  # an added cell's outputs are all new, a removed cell's all gone
        output_ops = [{"op": "addrange", "key": 0, "valuelist": outputs_b}]
    else:
        output_ops = [{"op": "removerange", "key": 0, "length": len(outputs_a)}]
    output_changes = _output_changes(outputs_a, outputs_b, output_ops)
    source_changed = a is not None and b is not None and source_a != source_b
    outputs_changed = a is not None and b is not None and bool(output_changes)
    # Only outputs the panel shows carry their bundle: those the output changes name.
    summarize = _with_bundle if output_changes else _without_bundle
    if status == "matched":
        changed = source_changed or outputs_changed or "cell_type" in by_key
        status = "changed" if changed else "unchanged"
    return {
        "status": status,
        "cell_type": (b or a or {}).get("cell_type", "code"),
        "a_index": ai,
        "b_index": bi,
        "source_changed": source_changed,
        "outputs_changed": outputs_changed,
        "source_a": source_a,
        "source_b": source_b,
        "source_diff": _line_diff(source_a, source_b, source_ops),
        "outputs_a": [summarize(o) for o in outputs_a],
        "outputs_b": [summarize(o) for o in outputs_b],
        "output_changes": output_changes,
    }


def _prepare(content: dict[str, Any]) -> Any:
    """An nbformat v4 node with sources and texts as strings (files store lists of lines)."""
    import nbformat
    from nbformat.v4.rwbase import rejoin_lines

    node = nbformat.from_dict(copy.deepcopy(content))
    return rejoin_lines(node)


def _same_cell(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if a.get("id") and b.get("id"):
        return bool(a["id"] == b["id"])
    return bool(a.get("cell_type") == b.get("cell_type") and a.get("source") == b.get("source"))


def _pair_moves(entries: list[dict[str, Any]], cells_a: list, cells_b: list) -> list[dict]:
    """Merge a removed and an added entry of the same cell into one ``moved`` entry."""
    from nbdime.diffing.notebooks import diff_item_at_path

    removed = [e for e in entries if e["status"] == "removed"]
    moved: dict[int, dict[str, Any]] = {}  # id() of the added entry -> the moved entry
    gone: set[int] = set()  # id() of the removed entries that became moves
    for entry in entries:
        if entry["status"] != "added":
            continue
        new = cells_b[entry["b_index"]]
        match = next((r for r in removed if _same_cell(cells_a[r["a_index"]], new)), None)
        if match is None:
            continue
        removed.remove(match)
        old = cells_a[match["a_index"]]
        patch = diff_item_at_path(old, new, "/cells/*")
        moved[id(entry)] = _entry("moved", old, new, match["a_index"], entry["b_index"], patch)
        gone.add(id(match))
    return [moved.get(id(e), e) for e in entries if id(e) not in gone]


def diff_notebooks(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Compare two notebooks cell by cell with nbdime.

    Parameters
    ----------
    a, b : dict
        Notebook contents (nbformat v4 dicts, as read from the file), ``a`` the older one.

    Returns
    -------
    dict
        ``{"cells": [...], "summary": {"added", "removed", "changed", "moved", "unchanged"}}``;
        each cell entry has ``status``, ``cell_type``, ``a_index``/``b_index``,
        ``source_changed``, ``outputs_changed``, both sources, a line diff of the source
        (``op`` is ``" "``, ``"-"`` or ``"+"``), both output summaries (for a cell with
        output changes each with its MIME bundle ``data`` and ``data_note``, see
        :func:`output_bundle`) and ``output_changes``
        (each output ``added``, ``removed`` or ``changed``: every output of an added or a
        removed cell is one; with the parts that changed: MIME
        types, ``text`` of a stream, ``evalue`` of an error...; and its images on the older
        and the newer side, ``images_a``/``images_b``, see :func:`output_images`).

    Raises
    ------
    MissingExtraError
        When nbdime (the ``lab`` extra) is not installed.
    """
    require("lab", "nbdime", "nbformat", feature="The notebook diff")
    import nbdime

    nb_a, nb_b = _prepare(a), _prepare(b)
    cells_a, cells_b = nb_a.get("cells", []), nb_b.get("cells", [])
    cell_ops: list[dict[str, Any]] = []
    for op in nbdime.diff_notebooks(nb_a, nb_b):
        if op["key"] != "cells":
            continue  # notebook metadata
        if op["op"] == "patch":
            cell_ops = op["diff"]
        else:  # nbdime replaces the whole list when a side has no cells
            cell_ops = [{"op": "removerange", "key": 0, "length": len(cells_a)},
                        {"op": "addrange", "key": 0, "valuelist": cells_b}]  # fmt: skip
    entries = []
    for ai, bi, patch in _align(cell_ops, len(cells_a)):
        if ai is None:
            entries.append(_entry("added", None, cells_b[bi], None, bi))
        elif bi is None:
            entries.append(_entry("removed", cells_a[ai], None, ai, None))
        else:
            entries.append(_entry("matched", cells_a[ai], cells_b[bi], ai, bi, patch))
    entries = _pair_moves(entries, cells_a, cells_b)
    _cap_images(entries)
    _cap_bundles(entries)
    summary = {k: 0 for k in ("added", "removed", "changed", "moved", "unchanged")}
    for entry in entries:
        summary[entry["status"]] += 1
    return {"cells": entries, "summary": summary}
