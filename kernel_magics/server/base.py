"""The base handler: authentication resource, store access, input parsing and error mapping.

Every error a handler raises ends up in :meth:`MlopsHandler.write_error`, the one place that
turns exceptions into HTTP answers:

============================  ======
exception                      status
============================  ======
``ValidationError``             400
``pydantic.ValidationError``    400
``NotFoundError``               404
``ConflictError``               409
``tornado.web.HTTPError``       its own
anything else                   500 (logged; the client sees no traceback)
============================  ======
"""

from __future__ import annotations

import json
import os
import time
from typing import Any, TypeVar
from urllib.parse import unquote

import pydantic
from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado import web

from kernel_magics.errors import ConflictError, KernelMagicsError, NotFoundError, ValidationError

Model = TypeVar("Model", bound=pydantic.BaseModel)

#: How often (seconds) listing runs also looks for runs whose process died.
REAP_EVERY_S = 10.0

#: The resource name JupyterLab authorizers see (``@authorized`` checks ``mlops:read`` etc.).
AUTH_RESOURCE = "mlops"


def status_for(exc: BaseException) -> int:
    """Return the HTTP status for an exception (the table in the module docstring)."""
    if isinstance(exc, web.HTTPError):
        return exc.status_code
    if isinstance(exc, (ValidationError, pydantic.ValidationError)):
        return 400
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, ConflictError):
        return 409
    return 500


def message_for(exc: BaseException, status: int) -> str:
    """Return the message shown to the client; never a traceback."""
    if isinstance(exc, pydantic.ValidationError):
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ())) or "input"
            problems.append(f"{where}: {err.get('msg')}")
        return "Invalid request: " + "; ".join(problems)
    if isinstance(exc, web.HTTPError):
        return exc.log_message or exc.reason or f"HTTP {status}"
    if isinstance(exc, KernelMagicsError):  # written for users: names the problem and the fix
        return str(exc)
    return "Internal error in the jupyter-mlops server extension; see the server log."


class MlopsHandler(ExtensionHandlerMixin, APIHandler):
    """Base of every ``/mlops/api`` handler.

    Subclasses define verb methods decorated with ``@tornado.web.authenticated`` and
    ``@authorized`` (a test enumerates the routes and fails on any method without both); they
    parse input with :meth:`query_model` / :meth:`body_model`, call core, and :meth:`write_json`.
    """

    auth_resource = AUTH_RESOURCE

    @property
    def store(self):
        """The store at the location :class:`~kernel_magics.server.app.KernelMagicsApp` chose.

        Opened (and migrated) on first use; ``open_store`` caches it per location.
        """
        from kernel_magics.core.store import open_store

        return open_store(self.settings["km_location"])

    def reap_now_and_then(self) -> None:
        """Mark runs whose process died ``crashed`` (at most every ``REAP_EVERY_S`` seconds).

        The panel must never show a run as ``running`` forever after its kernel was killed.
        """
        now = time.monotonic()
        if now - self.settings.get("km_last_reap", float("-inf")) >= REAP_EVERY_S:
            self.settings["km_last_reap"] = now
            self.store.runs.reap()

    def query_model(self, model: type[Model]) -> Model:
        """Validate the query string against a pydantic model (400 on bad input)."""
        values: dict[str, Any] = {}
        for name in self.request.query_arguments:
            raw = self.get_query_arguments(name)
            if name.isdigit() and raw == [""]:
                continue  # the cache buster ServerConnection.makeRequest appends to GETs
            values[name] = raw if len(raw) > 1 else raw[0]
        return model.model_validate(values)  # other unknown arguments are refused

    def body_model(self, model: type[Model]) -> Model:
        """Validate the JSON body against a pydantic model (400 on bad input)."""
        body = self.request.body or b"{}"
        try:
            data = json.loads(body)
        except ValueError:
            raise ValidationError("The request body is not valid JSON.") from None
        return model.model_validate(data)

    def write_json(self, data: Any, status: int = 200) -> None:
        """Send ``data`` as JSON."""
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(data, default=str))

    # -- paths ---------------------------------------------------------------------------------
    @property
    def root_dir(self) -> str:
        """The Jupyter root directory (the contents manager's, else the server's)."""
        root = getattr(self.contents_manager, "root_dir", None) or self.serverapp.root_dir
        return os.path.realpath(os.path.expanduser(root))

    def notebook_file(self, api_path: str) -> str:
        """Map a Jupyter path (relative to the root) to a file inside the root.

        Raises
        ------
        ValidationError
            For absolute paths, ``..`` segments (also percent-encoded), NUL bytes, or a path
            whose resolved location (symlinks followed) leaves the root directory.
        """
        decoded = unquote(api_path or "")
        if not decoded.strip() or "\x00" in decoded:
            raise ValidationError("Give the notebook's path relative to the Jupyter root.")
        norm = decoded.replace("\\", "/")
        parts = norm.split("/")
        if norm.startswith("/") or os.path.isabs(decoded) or ".." in parts or ":" in parts[0]:
            raise ValidationError(
                f"Notebook path {api_path!r} must be relative to the Jupyter root, without '..'."
            )
        root = self.root_dir
        target = os.path.realpath(os.path.join(root, *[p for p in parts if p not in ("", ".")]))
        if os.path.commonpath([root, target]) != root:
            raise ValidationError(f"Notebook path {api_path!r} resolves outside the Jupyter root.")
        return target

    def notebook_keys(self, api_path: str) -> list[str]:
        """Return the spellings a notebook may be recorded under (absolute and relative)."""
        target = self.notebook_file(api_path)
        relative = os.path.relpath(target, self.root_dir).replace(os.sep, "/")
        return list(dict.fromkeys([target, relative]))

    def jupyter_path(self, path: str | None) -> str | None:
        """Return the Jupyter path of a file inside the root (None when outside or unknown)."""
        if not path:
            return None
        absolute = os.path.realpath(os.path.join(self.root_dir, path))
        if os.path.commonpath([self.root_dir, absolute]) != self.root_dir:
            return None
        return os.path.relpath(absolute, self.root_dir).replace(os.sep, "/")

    # -- errors --------------------------------------------------------------------------------
    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Answer every error as ``{"message", "reason"}`` JSON, without a traceback."""
        exc_info = kwargs.get("exc_info")
        exc = exc_info[1] if exc_info else None
        status = status_for(exc) if exc is not None else status_code
        message = message_for(exc, status) if exc is not None else self._reason
        if status >= 500 and exc is not None and not isinstance(exc, web.HTTPError):
            self.log.error("jupyter-mlops %s %s failed", self.request.method, self.request.uri,
                           exc_info=exc_info)  # fmt: skip
        self.clear()
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"message": message, "reason": self._reason}))

    def log_exception(self, typ, value, tb) -> None:  # noqa: D102 - tornado hook
        if isinstance(value, web.HTTPError):
            super().log_exception(typ, value, tb)
        elif status_for(value) < 500:  # the client's mistake: one line, no traceback
            self.log.info("jupyter-mlops %s %s: %s", self.request.method, self.request.uri, value)
        # 5xx errors are logged once, with their traceback, by write_error.
