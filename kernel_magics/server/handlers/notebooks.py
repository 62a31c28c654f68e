"""``/mlops/api/notebook_versions`` and ``/mlops/api/notebook_diffs``: notebook history."""

from __future__ import annotations

import os

from jupyter_server.auth.decorator import authorized
from tornado import web

from kernel_magics.core import notebooks as nb
from kernel_magics.errors import NotFoundError, ValidationError

from .. import paths
from ..base import MlopsHandler
from ..contract import Operation
from ..models import (
    DescribeNotebookVersionResponse,
    DiffNotebooksQuery,
    DiffNotebooksResponse,
    ListNotebookVersionsQuery,
    ListNotebookVersionsResponse,
    RestoreNotebookVersionRequest,
    RestoreNotebookVersionResponse,
)
from ..models.base import MAX_INT


class _NotebookHandler(MlopsHandler):
    def describe(self, version: nb.NotebookVersion) -> dict:
        data = version.to_dict()
        data["jupyter_path"] = self.jupyter_path(version.path)
        data["short_hash"] = version.blob_hash[:10]
        return data

    def version_in_root(self, version_id: int) -> nb.NotebookVersion:
        """Return a version whose notebook lies inside the Jupyter root (404 for any other).

        The store may hold notebooks from outside this server's root; this server only shows
        the ones it could open itself.
        """
        if version_id > MAX_INT:  # no such row can exist; the driver would overflow
            raise nb.NotebookVersionNotFoundError(f"No notebook version with id {version_id}.")
        version = nb.get_notebook_version(self.store, version_id)
        if self.jupyter_path(version.path) is None:
            raise nb.NotebookVersionNotFoundError(
                f"No notebook version with id {version_id} under this server's root."
            )
        return version


class NotebookVersionsHandler(_NotebookHandler):
    """The version history of one notebook, newest first."""

    operations = {
        "get": Operation(
            "The version history of a notebook, newest first, each with the runs that used it.",
            ListNotebookVersionsResponse,
            query=ListNotebookVersionsQuery,
            errors=(400,),
        )
    }

    @web.authenticated
    @authorized
    def get(self) -> None:
        """Answer a :class:`ListNotebookVersionsResponse`."""
        query = self.parse_query(ListNotebookVersionsQuery)
        keys = self.notebook_keys(query.path)
        versions = nb.list_notebook_versions(self.store, keys)
        self.respond(
            ListNotebookVersionsResponse,
            {"path": query.path, "versions": [self.describe(v) for v in versions]},
        )


class NotebookVersionItemHandler(_NotebookHandler):
    """One version's metadata and notebook content."""

    operations = {
        "get": Operation(
            "A version's metadata and its notebook content (nbformat JSON).",
            DescribeNotebookVersionResponse,
            errors=(404,),
        )
    }

    @web.authenticated
    @authorized
    def get(self, version_id: str) -> None:
        """Answer a :class:`DescribeNotebookVersionResponse`."""
        version = self.version_in_root(int(version_id))
        data = self.describe(version)
        data["content"] = nb.get_notebook_content(self.store, version.id)
        self.respond(DescribeNotebookVersionResponse, data)


class NotebookRestoreHandler(_NotebookHandler):
    """Write a version to a new file inside the root; never overwrite."""

    operations = {
        "post": Operation(
            "Write a version to a new file inside the Jupyter root; never overwrites.",
            RestoreNotebookVersionResponse,
            body=RestoreNotebookVersionRequest,
            status=201,
            errors=(400, 404, 409),
        )
    }

    @web.authenticated
    @authorized
    def post(self, version_id: str) -> None:
        """Create the file and answer a :class:`RestoreNotebookVersionResponse` (201)."""
        body = self.parse_body(RestoreNotebookVersionRequest)
        version = self.version_in_root(int(version_id))
        if body.path:
            target = self.notebook_file(body.path)
            if not target.endswith(".ipynb"):
                raise ValidationError("A restored notebook's path must end with .ipynb.")
            self.require_folder(os.path.dirname(target))
            written = nb.restore_notebook_version(self.store, version.id, target)
        else:
            next_to = self.copy_base(body.next_to, version)
            written = nb.restore_notebook_version(self.store, version.id, next_to=next_to)
        self.respond(
            RestoreNotebookVersionResponse,
            {"path": self.jupyter_path(written), "version_id": version.id},
        )

    def copy_base(self, next_to: str | None, version: nb.NotebookVersion) -> str:
        """Return the path whose folder and stem name the copy, checked to be inside the root.

        ``next_to`` may name a notebook (the copy goes beside it, named after it) or a folder
        (the copy goes into it, named after the version's notebook); without it the copy goes
        beside the version's own notebook.
        """
        if next_to is None:
            base = os.path.realpath(version.path)
        else:
            base = self.notebook_file(next_to)
            if os.path.isdir(base):
                base = os.path.join(base, os.path.basename(version.path))
        self.require_folder(os.path.dirname(base))
        return base

    def require_folder(self, folder: str) -> None:
        """Refuse a folder outside the root (400) or one that does not exist (404)."""
        if not paths.inside(self.root_dir, os.path.realpath(folder)):
            raise ValidationError("The copy would be written outside the Jupyter root.")
        if not os.path.isdir(folder):
            raise NotFoundError(
                f"The folder {self.jupyter_path(folder) or '?'!r} does not exist under the "
                "Jupyter root; create it first or restore next to an existing notebook."
            )


class NotebookDiffHandler(_NotebookHandler):
    """A cell-by-cell diff of two versions, or of a version and the file as saved now."""

    operations = {
        "get": Operation(
            "Cell-by-cell diff of two versions, or of a version and the notebook as saved now.",
            DiffNotebooksResponse,
            query=DiffNotebooksQuery,
            errors=(400, 404),
        )
    }

    @web.authenticated
    @authorized
    def get(self) -> None:
        """Answer a :class:`DiffNotebooksResponse`."""
        query = self.parse_query(DiffNotebooksQuery)
        sides = []
        for ref in (query.a, query.b):
            if ref == "current":
                sides.append(self.current(query.path))
            else:
                version = self.version_in_root(int(ref))
                sides.append(nb.get_notebook_content(self.store, version.id))
        diff = nb.diff_notebooks(sides[0], sides[1])
        self.respond(DiffNotebooksResponse, {"a": query.a, "b": query.b, **diff})

    def current(self, api_path: str | None) -> dict:
        """Read the notebook at ``api_path`` as saved now (404 naming it relative to the root)."""
        if not api_path:
            raise ValidationError("Comparing with 'current' needs the notebook's path.")
        target = self.notebook_file(api_path)
        if not os.path.isfile(target) and not os.path.isdir(target):
            raise NotFoundError(f"No notebook at {self.jupyter_path(target)!r} under the root.")
        return nb.read_notebook_file(target)
