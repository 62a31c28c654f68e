"""Every route requires authentication and authorization; a test enumerates them all."""

from __future__ import annotations

import inspect
import re

import pytest
from jupyter_server.auth import Authorizer
from jupyter_server.auth.decorator import authorized
from server_helpers import server_config
from tornado import web
from tornado.httpclient import HTTPClientError

from kernel_magics.server.app import API_NAMESPACE, KernelMagicsApp

VERBS = ("get", "post", "put", "patch", "delete")
SAMPLE_GROUPS = {"run_id": "0" * 32, "key": "loss", "path": "plot.png", "version_id": "1",
                 "name": "churn", "version": "1", "alias": "production",
                 "deployment_id": "1", "schedule_id": "1"}  # fmt: skip


def routes() -> list[tuple[str, type]]:
    """The routes KernelMagicsApp registers (patterns relative to the base URL)."""
    app = KernelMagicsApp()
    app.initialize_handlers()
    return list(app.handlers)


def verbs_of(handler: type) -> list[str]:
    """The HTTP methods a handler class implements itself (not tornado's 405 defaults)."""
    return [v for v in VERBS if getattr(handler, v) is not getattr(web.RequestHandler, v)]


def concrete_url(pattern: str) -> str:
    """Fill a route's named groups with sample values."""
    url = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: SAMPLE_GROUPS[m.group(1)], pattern)
    return url.replace("/?", "").lstrip("/")


def _codes(func) -> set:
    found = set()
    while func is not None:
        found.add(func.__code__)
        func = getattr(func, "__wrapped__", None)
    return found


AUTHENTICATED_CODE = web.authenticated(lambda self: None).__code__
AUTHORIZED_CODE = authorized(lambda self: None).__code__
ALL_ROUTES = [(p, h, v) for p, h in routes() for v in verbs_of(h)]


def test_every_route_is_under_the_namespace_and_has_verbs():
    # Given / When
    found = routes()
    # Then
    assert len(found) >= 12
    for pattern, handler in found:
        assert pattern.startswith(f"/{API_NAMESPACE}/"), pattern
        assert verbs_of(handler), f"{handler.__name__} answers no verb"


@pytest.mark.parametrize(("pattern", "handler", "verb"), ALL_ROUTES)
def test_every_verb_is_decorated_with_authenticated_and_authorized(pattern, handler, verb):
    # Given
    method = getattr(handler, verb)
    # When
    codes = _codes(method)
    # Then
    assert AUTHENTICATED_CODE in codes, f"{handler.__name__}.{verb} lacks @web.authenticated"
    assert AUTHORIZED_CODE in codes, f"{handler.__name__}.{verb} lacks @authorized"
    assert handler.auth_resource == "mlops"


def test_the_decorator_check_catches_a_missing_decorator():
    # Given a handler whose get() is only authenticated
    class Careless(web.RequestHandler):
        @web.authenticated
        def get(self):
            pass

    # When
    codes = _codes(Careless.get)
    # Then
    assert AUTHENTICATED_CODE in codes
    assert AUTHORIZED_CODE not in codes


@pytest.mark.parametrize(("pattern", "handler", "verb"), ALL_ROUTES)
async def test_every_route_refuses_a_request_without_a_token(jp_fetch, pattern, handler, verb):
    # Given no token at all
    url = concrete_url(pattern)
    body = "{}" if verb in ("post", "put", "patch") else None
    # When
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch(url, method=verb.upper(), body=body, headers={"Authorization": ""})
    # Then
    assert info.value.code == 403


@pytest.mark.parametrize(("pattern", "handler", "verb"), ALL_ROUTES)
async def test_every_route_refuses_a_bad_token(jp_fetch, pattern, handler, verb):
    # Given a wrong token
    url = concrete_url(pattern)
    body = "{}" if verb in ("post", "put", "patch") else None
    # When
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch(url, method=verb.upper(), body=body, headers={"Authorization": "token no"})
    # Then
    assert info.value.code == 403


class DenyMlops(Authorizer):
    """Allow everything except the ``mlops`` resource; record what was asked."""

    asked: list[tuple[str, str]] = []

    def is_authorized(self, handler, user, action, resource):
        DenyMlops.asked.append((action, resource))
        return resource != "mlops"


class TestAuthorization:
    @pytest.fixture
    def jp_server_config(self, store):
        return server_config(store, ServerApp={"authorizer_class": DenyMlops})

    @pytest.mark.parametrize(("pattern", "handler", "verb"), ALL_ROUTES)
    async def test_an_authenticated_user_without_permission_gets_403(
        self, jp_fetch, pattern, handler, verb
    ):
        # Given a valid token but an authorizer that denies the mlops resource
        DenyMlops.asked.clear()
        url = concrete_url(pattern)
        body = "{}" if verb in ("post", "put", "patch") else None
        # When
        with pytest.raises(HTTPClientError) as info:
            await jp_fetch(url, method=verb.upper(), body=body)
        # Then
        assert info.value.code == 403
        expected = "read" if verb == "get" else "write"
        assert (expected, "mlops") in DenyMlops.asked


def test_handler_modules_contain_no_sql():
    # Given every module of the server extension (handlers and models added later included)
    import importlib
    import pkgutil

    import kernel_magics.server as server

    names = [m.name for m in pkgutil.walk_packages(server.__path__, "kernel_magics.server.")]
    modules = [server, *(importlib.import_module(n) for n in names)]
    assert "kernel_magics.server.handlers.models" in names
    # When / Then: SQL stays in core
    for module in modules:
        source = inspect.getsource(module)
        assert "sqlalchemy import select" not in source
        assert not re.search(r"\b(SELECT|INSERT|UPDATE|DELETE)\s+\w", source), module.__name__
        assert ".execute(" not in source, module.__name__


async def test_cookie_sessions_need_the_xsrf_token_for_a_post(
    jp_fetch, seed, http_server_client, jp_base_url, jp_serverapp
):
    # Given a browser-style session: log in with the token once, then only cookies
    from server_helpers import notebook_json

    version = seed.version("nb.ipynb", notebook_json("x"))
    token = jp_serverapp.identity_provider.token
    login = await http_server_client.fetch(
        f"{jp_base_url}api/status?token={token}", follow_redirects=False
    )
    cookies = "; ".join(c.split(";")[0] for c in login.headers.get_list("Set-Cookie"))
    assert cookies, "the token login set no cookie"
    url = f"{jp_base_url}mlops/api/notebook_versions/{version}/restore"
    # When the POST carries the session cookie but no XSRF token
    with pytest.raises(HTTPClientError) as info:
        await http_server_client.fetch(url, method="POST", body="{}", headers={"Cookie": cookies})
    # Then it is refused
    assert info.value.code == 403
    # When it also carries a matching XSRF cookie and header
    xsrf = "2|abcdef01|0123456789abcdef0123456789abcdef|1700000000"
    response = await http_server_client.fetch(
        url, method="POST", body="{}",
        headers={"Cookie": f"{cookies}; _xsrf={xsrf}", "X-XSRFToken": xsrf},
    )  # fmt: skip
    # Then it goes through
    assert response.code == 201
    # And a GET with the cookie alone is fine (XSRF guards state changes only)
    listing = await http_server_client.fetch(
        f"{jp_base_url}mlops/api/notebook_versions?path=nb.ipynb", headers={"Cookie": cookies}
    )
    assert listing.code == 200
