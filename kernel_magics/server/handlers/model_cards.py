"""``/mlops/api/models/{name}/versions/{version}/card``: read and edit a version's model card.

``GET .../card`` answers the editable fields and the stored importance; ``PATCH`` changes the
fields; ``GET .../card/html`` renders the whole card (the panel's "Open card" link). Rendering
loads the model to compute its permutation importance the first time, so it runs on a worker
thread and the server keeps answering other requests meanwhile.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from kernel_magics.errors import ValidationError

from ..base import MlopsHandler
from ..contract import Operation
from ..models.model_cards import DescribeModelCardResponse, UpdateModelCardRequest
from .models import check_model_name, check_version, looking_up

#: The rendered card is user text served from the Jupyter origin: no script, no request out.
CARD_CSP = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def _ref(name: str, version: str) -> str:
    return f"{check_model_name(name)}/{check_version(version)}"


class ModelCardHandler(MlopsHandler):
    """A version's card fields: read them, or change them."""

    operations = {
        "get": Operation(
            "A model version's card: description, intended use, limitations, importance.",
            DescribeModelCardResponse,
            errors=(400, 404),
        ),
        "patch": Operation(
            "Change a card's description, intended use or limitations ('' clears one).",
            DescribeModelCardResponse,
            body=UpdateModelCardRequest,
            errors=(400, 404),
        ),
    }

    def _answer(self, fields: dict[str, Any]) -> None:
        path = f"models/{fields['name']}/versions/{fields['version']}/card/html"
        self.respond(DescribeModelCardResponse, {**fields, "html_path": path})

    @web.authenticated
    @authorized
    def get(self, name: str, version: str) -> None:
        """Answer a :class:`DescribeModelCardResponse`."""
        from kernel_magics.core.reports.model_card import card_fields

        ref = _ref(name, version)
        with looking_up("version"):
            fields = card_fields(self.store, ref)
        self._answer(fields)

    @web.authenticated
    @authorized
    def patch(self, name: str, version: str) -> None:
        """Apply the changes; answer the card."""
        from kernel_magics.core.reports.model_card import update_card

        ref = _ref(name, version)
        body = self.parse_body(UpdateModelCardRequest)
        values = body.model_dump(exclude_none=True)
        if not values:
            raise ValidationError(
                "Nothing to change: send description, intended_use or limitations."
            )
        with looking_up("version"):
            fields = update_card(self.store, ref, values)
        self._answer(fields)


class ModelCardHTMLHandler(MlopsHandler):
    """The whole card rendered as one self-contained HTML page."""

    operations = {
        "get": Operation(
            "The model card as a self-contained HTML page (computes its importance once).",
            None,
            errors=(400, 404),
            media_type="text/html",
            description=(
                "Served with a sandboxing Content-Security-Policy: the page runs no script and "
                "loads nothing (its CSS is inline, its charts data: URIs)."
            ),
        )
    }

    @web.authenticated
    @authorized
    async def get(self, name: str, version: str) -> None:
        """Send the rendered card."""
        ref = _ref(name, version)
        # In the request's context, so a card made now is recorded as this Jupyter user's.
        call = functools.partial(contextvars.copy_context().run, self._render, ref)
        page = await asyncio.get_running_loop().run_in_executor(None, call)
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Content-Security-Policy", CARD_CSP)
        self.finish(page, set_content_type="text/html; charset=utf-8")

    def _render(self, ref: str) -> str:
        from kernel_magics.core.reports.model_card import card_document, card_facts
        from kernel_magics.core.reports.render import render_html

        with looking_up("version"):
            return render_html(card_document(card_facts(self.store, ref)))
