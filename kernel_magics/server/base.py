"""The base handler: authentication resource, store access, input parsing and error mapping.

Every error a handler raises ends up in :meth:`MlopsHandler.write_error`, the one place that
turns exceptions into HTTP answers:

=====================================================  ======
exception                                               status
=====================================================  ======
``ValidationError``, ``pydantic.ValidationError``       400
``NotFoundError``                                       404
``ConflictError``                                       409
``tornado.web.HTTPError``                               its own
an ``OSError`` on a path the client gave (see below)    4xx
anything else                                           500 (logged; the client sees no traceback)
=====================================================  ======

Filesystem errors map by kind: a missing file or folder is 404, an existing one 409, a folder
where a file was expected (or a name too long, a symlink loop) 400, no permission 403. Messages
never show the server's absolute root: paths in them are relative to the Jupyter root, and
the store's folders are named by their variables (``$MLOPS_HOME/artifacts``).
"""

from __future__ import annotations

import errno
import json
import os
from typing import Any, ClassVar, TypeVar

import pydantic
from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado import web

from kernel_magics.errors import ConflictError, KernelMagicsError, NotFoundError, ValidationError

from . import paths
from .contract import Operation
from .models import ErrorResponse, Request, Response

RequestModel = TypeVar("RequestModel", bound=Request)

#: The resource name JupyterLab authorizers see (``@authorized`` checks ``mlops:read`` etc.).
AUTH_RESOURCE = "mlops"

#: Query arguments that belong to Jupyter itself (``?token=`` logs in, as on Jupyter's own
#: routes); they are removed before a query model sees the arguments.
JUPYTER_QUERY_ARGUMENTS = ("token", "_xsrf")

#: ``errno`` values of a path the client got wrong (not of a server in trouble).
_BAD_PATH_ERRNOS = {errno.ENAMETOOLONG: 400, errno.ELOOP: 400, errno.EROFS: 403}

_OS_STATUS: tuple[tuple[type[OSError], int], ...] = (
    (FileNotFoundError, 404),
    (NotADirectoryError, 404),
    (FileExistsError, 409),
    (IsADirectoryError, 400),
    (PermissionError, 403),
)


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
    if isinstance(exc, OSError) and not isinstance(exc, KernelMagicsError):
        for kind, status in _OS_STATUS:
            if isinstance(exc, kind):
                return status
        return _BAD_PATH_ERRNOS.get(exc.errno or 0, 500)
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
    if isinstance(exc, OSError) and status < 500:  # the strerror only: the file name is theirs
        return f"Cannot use that path: {exc.strerror or type(exc).__name__}."
    return "Internal error in the jupyter-mlops server extension; see the server log."


class MlopsHandler(ExtensionHandlerMixin, APIHandler):
    """Base of every ``/mlops/api`` handler.

    Subclasses declare an :class:`~kernel_magics.server.contract.Operation` per verb in
    ``operations`` and define the verb methods decorated with ``@tornado.web.authenticated`` and
    ``@authorized`` (a test enumerates the routes and fails on any method without both); they
    parse input with :meth:`parse_query` / :meth:`parse_body`, call core, and :meth:`respond`.
    """

    auth_resource = AUTH_RESOURCE
    operations: ClassVar[dict[str, Operation]] = {}

    async def prepare(self) -> None:  # type: ignore[override]
        """Authenticate (Jupyter's own prepare), then act as the request's Jupyter user.

        The one place the server sets :func:`kernel_magics.core.actor.current_actor`: the audit
        trail then records this user for every change the request makes. Each request runs in
        its own asyncio task, so the value never leaks into another request.
        """
        await super().prepare()
        user = self.current_user
        if user is not None:
            from kernel_magics.core.actor import set_actor

            set_actor(self._actor_name(user))

    def _actor_name(self, user: Any) -> str:
        # Jupyter's stock identity providers know a shared token or password, not a person: the
        # user they return is a random anonymous id per browser ("774de947c4..."), meaningless
        # in an audit trail. The person is then whoever runs this server, the OS user, as for
        # the CLI. A real identity provider (JupyterHub, a custom one) names its users.
        from jupyter_server.auth.identity import IdentityProvider, PasswordIdentityProvider

        from kernel_magics.core.actor import os_user

        if type(self.identity_provider) in (IdentityProvider, PasswordIdentityProvider):
            return os_user()
        return getattr(user, "username", None) or str(user)

    @property
    def store(self):
        """The store at the location :class:`~kernel_magics.server.app.KernelMagicsApp` chose.

        Opened (and migrated) on first use; ``open_store`` caches it per location.
        """
        from kernel_magics.core.store import open_store

        return open_store(self.settings["km_location"])

    @property
    def operation(self) -> Operation:
        """The contract of the verb being served."""
        return self.operations[self.request.method.lower()]

    # -- input ---------------------------------------------------------------------------------
    def parse_query(self, model: type[RequestModel]) -> RequestModel:
        """Validate the query string against the operation's query model (400 on bad input)."""
        self._check_declared(model, self.operation.query, "query")
        values: dict[str, Any] = {}
        for name in self.request.query_arguments:
            if name in JUPYTER_QUERY_ARGUMENTS:
                continue
            raw = self.get_query_arguments(name)
            if name.isdigit() and raw == [""]:
                continue  # the cache buster ServerConnection.makeRequest appends to GETs
            values[name] = raw if len(raw) > 1 else raw[0]
        return model.model_validate(values)  # other unknown arguments are refused

    def parse_body(self, model: type[RequestModel]) -> RequestModel:
        """Validate the JSON body against the operation's body model (400 on bad input).

        The body is decoded once, as JSON; strings in it are used as sent.
        """
        self._check_declared(model, self.operation.body, "body")
        try:
            data = json.loads(self.request.body or b"{}")
        except ValueError:
            raise ValidationError("The request body is not valid JSON.") from None
        return model.model_validate(data)

    # -- output --------------------------------------------------------------------------------
    def respond(self, model: type[Response], data: Any, status: int | None = None) -> None:
        """Serialize ``data`` through the operation's response model and send it.

        ``status`` overrides the operation's for an answer that is not a success but still
        has the declared body (a failed promotion gate's 409). A handler whose answer breaks
        its own contract is a bug: 500, logged with the reason.
        """
        self._check_declared(model, self.operation.response, "response")
        try:
            payload = model.model_validate(data)
        except pydantic.ValidationError as exc:
            raise RuntimeError(f"The answer breaks {model.__name__}: {exc}") from exc
        self.set_status(status or self.operation.status)
        self.set_header("Content-Type", "application/json")
        self.finish(payload.model_dump_json(by_alias=True))

    def _check_declared(self, model: type, declared: type | None, what: str) -> None:
        if model is not declared:
            raise RuntimeError(
                f"{type(self).__name__}.{self.request.method.lower()} uses {model.__name__} "
                f"as its {what} but declares {getattr(declared, '__name__', None)}."
            )

    # -- paths ---------------------------------------------------------------------------------
    @property
    def root_dir(self) -> str:
        """The Jupyter root directory (the contents manager's, else the server's), resolved."""
        root = getattr(self.contents_manager, "root_dir", None) or self.serverapp.root_dir
        return os.path.realpath(os.path.expanduser(root))

    def notebook_file(self, api_path: str) -> str:
        """Map a Jupyter path (relative to the root) to a file inside the root.

        See :func:`kernel_magics.server.paths.resolve_in_root` for what is refused (400).
        """
        return paths.resolve_in_root(self.root_dir, api_path)

    def notebook_keys(self, api_path: str) -> list[str]:
        """Return the spellings a notebook may be recorded under (absolute and relative)."""
        target = self.notebook_file(api_path)
        relative = paths.relative_to_root(self.root_dir, target)
        return list(dict.fromkeys([target, relative or target]))

    def jupyter_path(self, path: str | None) -> str | None:
        """Return the Jupyter path of a file inside the root (None when outside or unknown)."""
        return paths.relative_to_root(self.root_dir, path)

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
        location = self.settings.get("km_location")
        if location is not None:
            message = paths.scrub_store(message, location)
        answer = ErrorResponse(message=paths.scrub(message, self.root_dir), reason=self._reason)
        self.finish(answer.model_dump_json())

    def log_exception(self, typ, value, tb) -> None:  # noqa: D102 - tornado hook
        if isinstance(value, web.HTTPError):
            super().log_exception(typ, value, tb)
        elif status_for(value) < 500:  # the client's mistake: one line, no traceback
            self.log.info("jupyter-mlops %s %s: %s", self.request.method, self.request.uri, value)
        # 5xx errors are logged once, with their traceback, by write_error.
