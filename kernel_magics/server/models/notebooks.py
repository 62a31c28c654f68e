"""Models of ``/mlops/api/notebook_versions`` and ``/mlops/api/notebook_diffs``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from .base import Request, Response

#: A Jupyter path (relative to the root) as a client sends it.
JupyterPath = Annotated[str, Field(min_length=1, max_length=4096)]


class NotebookVersion(Response):
    """A stored version of a notebook."""

    id: int = Field(description="Version id")
    path: str = Field(description="Absolute path when recorded")
    jupyter_path: str | None = Field(description="Path relative to the Jupyter root")
    blob_hash: str = Field(description="Content digest")
    short_hash: str = Field(description="First 10 characters of the digest")
    size: int | None = Field(description="File size in bytes")
    created_at: float = Field(description="UTC epoch seconds")
    run_ids: list[str] = Field(description="Runs that used this version, newest first")


class ListNotebookVersionsQuery(Request):
    """``GET /mlops/api/notebook_versions``: the notebook whose history to list."""

    path: JupyterPath = Field(description="Jupyter path; must stay inside the root")


class ListNotebookVersionsResponse(Response):
    """``GET /mlops/api/notebook_versions``: a notebook's versions, newest first."""

    path: str = Field(description="The Jupyter path asked for")
    versions: list[NotebookVersion] = Field(description="Newest first")


class DescribeNotebookVersionResponse(NotebookVersion):
    """``GET /mlops/api/notebook_versions/{version_id}``: a version and its notebook."""

    content: dict[str, Any] = Field(description="The notebook (nbformat JSON)")


class DiffNotebooksQuery(Request):
    """``GET /mlops/api/notebook_diffs``: two versions, or a version and the file on disk.

    ``a`` and ``b`` are version ids or ``current`` (the notebook at ``path`` as saved now).
    """

    a: str = Field(..., pattern=r"^(\d{1,18}|current)$", description="Older side")
    b: str = Field(..., pattern=r"^(\d{1,18}|current)$", description="Newer side")
    path: JupyterPath | None = Field(None, description="Needed when a or b is current")


class OutputSummary(Response):
    """A cell output reduced for comparison."""

    output_type: str = Field(description="stream, execute_result, display_data or error")
    text: str = Field(description="Text of the output")
    media: list[str] = Field(description="Rich MIME types present")
    data: dict[str, str] = Field(
        description="The output's text MIME bundle for the panel to render untrusted (text/html, "
        "text/markdown, text/latex, text/plain; a stream as application/vnd.jupyter.stdout or "
        "stderr, an error's traceback as stderr); images travel in the output change's image "
        "fields; empty when the cell's outputs did not change or the diff's budget was spent"
    )
    data_note: str | None = Field(description="What data leaves out and why, in words")


class DiffLine(Response):
    """One line of a source diff."""

    op: Literal[" ", "-", "+"] = Field(description="' ' kept, '-' removed, '+' added")
    text: str = Field(description="The line")


class OutputImage(Response):
    """An image of an output, for the panel to draw (it builds the data: URL itself)."""

    mime: Literal["image/png", "image/jpeg", "image/gif", "image/svg+xml"] = Field(
        description="The image's MIME type"
    )
    encoding: Literal["base64", "text"] = Field(
        description="base64 (PNG, JPEG, GIF) or text (the SVG source)"
    )
    data: str | None = Field(
        description="The image as nbformat stores it; null when too large or not decodable"
    )
    size: int = Field(description="Bytes of the image")
    note: str | None = Field(description="Why data is null, in words")


CellStatus = Literal["added", "removed", "changed", "moved", "unchanged"]


class OutputChange(Response):
    """One output of a cell added, removed or changed between the two notebooks."""

    op: Literal["added", "removed", "changed"] = Field(description="What happened to it")
    a_index: int | None = Field(description="Index among the older cell's outputs")
    b_index: int | None = Field(description="Index among the newer cell's outputs")
    output_type: str = Field(description="stream, execute_result, display_data or error")
    parts: list[str] = Field(
        description="What changed: MIME types, text, evalue...; for an added or removed "
        "output its rich MIME types"
    )
    images_a: list[OutputImage] = Field(description="Its images in the older notebook")
    images_b: list[OutputImage] = Field(description="Its images in the newer notebook")


class CellDiff(Response):
    """One aligned cell of a notebook diff (nbdime's, shaped by ``core/notebook_diff.py``)."""

    status: CellStatus = Field(description="What happened to the cell")
    cell_type: str = Field(description="code, markdown or raw")
    a_index: int | None = Field(description="Index in the older notebook")
    b_index: int | None = Field(description="Index in the newer notebook")
    source_changed: bool = Field(description="Whether the source differs")
    outputs_changed: bool = Field(description="Whether the outputs differ")
    source_a: str = Field(description="Older source")
    source_b: str = Field(description="Newer source")
    source_diff: list[DiffLine] = Field(description="Line diff of the source")
    outputs_a: list[OutputSummary] = Field(description="Older outputs")
    outputs_b: list[OutputSummary] = Field(description="Newer outputs")
    output_changes: list[OutputChange] = Field(description="Outputs added, removed or changed")


class DiffSummary(Response):
    """How many cells a diff counts by status."""

    added: int
    removed: int
    changed: int
    moved: int
    unchanged: int


class DiffNotebooksResponse(Response):
    """``GET /mlops/api/notebook_diffs``: the aligned cells and their counts."""

    a: str = Field(description="Older side: a version id or current")
    b: str = Field(description="Newer side: a version id or current")
    cells: list[CellDiff] = Field(description="Aligned cells")
    summary: DiffSummary = Field(description="Counts by status")


class RestoreNotebookVersionRequest(Request):
    """``POST /mlops/api/notebook_versions/{version_id}/restore``: where to write the copy.

    ``path`` names the new file exactly (409 if it exists); otherwise ``next_to`` (default: the
    notebook the version came from; a folder also works) picks the folder and the file is named
    ``<stem>.v<id>.ipynb``. Either way the file must land inside the Jupyter root.
    """

    path: JupyterPath | None = Field(None, description="Exact new file (.ipynb); 409 if taken")
    next_to: JupyterPath | None = Field(
        None, description="A notebook (or folder) whose folder gets <stem>.v<id>.ipynb"
    )


class RestoreNotebookVersionResponse(Response):
    """``POST /mlops/api/notebook_versions/{version_id}/restore``: the file written."""

    path: str = Field(description="Jupyter path of the new file")
    version_id: int = Field(description="The version restored")
