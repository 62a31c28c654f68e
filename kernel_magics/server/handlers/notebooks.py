"""``/mlops/api/notebook_versions`` and ``/mlops/api/notebook_diffs``: notebook history."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from kernel_magics.core import notebooks as nb
from kernel_magics.errors import ValidationError

from ..base import MlopsHandler
from ..models import DiffNotebooksQuery, ListNotebookVersionsQuery, RestoreNotebookVersion


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
        version = nb.get_notebook_version(self.store, version_id)
        if self.jupyter_path(version.path) is None:
            raise nb.NotebookVersionNotFoundError(
                f"No notebook version with id {version_id} under this server's root."
            )
        return version


class NotebookVersionsHandler(_NotebookHandler):
    """The version history of one notebook, newest first."""

    @web.authenticated
    @authorized
    def get(self) -> None:
        """Return ``{"path", "versions": [...]}``; each version lists the runs that used it."""
        query = self.query_model(ListNotebookVersionsQuery)
        keys = self.notebook_keys(query.path)
        versions = nb.list_notebook_versions(self.store, keys)
        self.write_json({"path": query.path, "versions": [self.describe(v) for v in versions]})


class NotebookVersionItemHandler(_NotebookHandler):
    """One version's metadata and notebook content."""

    @web.authenticated
    @authorized
    def get(self, version_id: str) -> None:
        """Return the version and ``content`` (the nbformat JSON)."""
        version = self.version_in_root(int(version_id))
        data = self.describe(version)
        data["content"] = nb.get_notebook_content(self.store, version.id)
        self.write_json(data)


class NotebookRestoreHandler(_NotebookHandler):
    """Write a version to a new file next to the notebook; never overwrite."""

    @web.authenticated
    @authorized
    def post(self, version_id: str) -> None:
        """Create the file and return ``{"path", "version_id"}`` with 201 (409 if it exists)."""
        body = self.body_model(RestoreNotebookVersion)
        version = self.version_in_root(int(version_id))
        target = next_to = None
        if body.path:
            target = self.notebook_file(body.path)
            if not target.endswith(".ipynb"):
                raise ValidationError("A restored notebook's path must end with .ipynb.")
        else:
            next_to = self.notebook_file(body.next_to) if body.next_to else version.path
        written = nb.restore_notebook_version(self.store, version.id, target, next_to=next_to)
        self.write_json({"path": self.jupyter_path(written), "version_id": version.id}, status=201)


class NotebookDiffHandler(_NotebookHandler):
    """A cell-by-cell diff of two versions, or of a version and the file as saved now."""

    @web.authenticated
    @authorized
    def get(self) -> None:
        """Return ``{"a", "b", "cells": [...], "summary": {...}}``."""
        query = self.query_model(DiffNotebooksQuery)
        sides = []
        for ref in (query.a, query.b):
            if ref == "current":
                if not query.path:
                    raise ValidationError("Comparing with 'current' needs the notebook's path.")
                sides.append(nb.read_notebook_file(self.notebook_file(query.path)))
            else:
                version = self.version_in_root(int(ref))
                sides.append(nb.get_notebook_content(self.store, version.id))
        diff = nb.diff_notebooks(sides[0], sides[1])
        self.write_json({"a": query.a, "b": query.b, **diff})
