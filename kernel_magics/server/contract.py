"""What one verb of one route promises: its models, its status and the errors it answers.

Handlers declare an :class:`Operation` per verb (``operations = {"get": Operation(...)}``);
:class:`~kernel_magics.server.base.MlopsHandler` validates input and serializes answers with the
declared models, and :mod:`kernel_magics.server.openapi` builds ``openapi.yaml`` from the same
declarations, so the spec cannot describe a route other than the one the code serves.
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import Request, Response


@dataclass(frozen=True)
class Operation:
    """The contract of one verb of a route.

    Attributes
    ----------
    summary : str
        One line for the spec.
    response : type of Response, optional
        The JSON answer's model; None for a route that sends bytes (``media_type``).
    query, body : type of Request, optional
        The models the query string and the JSON body are validated with.
    status : int
        The status of a successful answer.
    errors : tuple of int
        The error statuses the route answers on purpose (403 is implied everywhere).
    media_type : str
        The content type of a successful answer.
    description : str
        More words for the spec.
    """

    summary: str
    response: type[Response] | None
    query: type[Request] | None = None
    body: type[Request] | None = None
    status: int = 200
    errors: tuple[int, ...] = ()
    media_type: str = "application/json"
    description: str = ""
