"""A one-module Django project for the integration tests: settings, URLs and views.

In the test process :func:`configure` sets it up once (Django's settings are per process;
tests change ``AUTHSIG`` with ``override_settings``). Under gunicorn, ``_django_site:wsgi()``
configures it from the environment: ``AUTHSIG_TEST_KEYS`` (comma-separated base64 public
keys of a 2-of-n quorum), ``AUTHSIG_TEST_BASE_URL`` (the public base URL) and
``AUTHSIG_TEST_APP_ID``.

Every protected view answers like ``_framework_apps.answer``. URL names:

- ``echo`` (``/v1/echo``): a function view with ``@require_quorum(quorum)``;
- ``echo-async``: an async function view with an async resolver;
- ``cbv`` / ``cbv-async``: class-based views (sync and async) with the decorator on the class;
- ``mapped`` and ``api:rpc``: undecorated views, protected by the middleware when
  ``AUTHSIG["quorums"]`` names them;
- ``maybe``: a resolver that needs a signature for POST only;
- ``open``: unprotected, shows ``request.authsig``.
"""

from __future__ import annotations

import os
from typing import Any

from django.http import JsonResponse
from django.urls import include, path
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from authsig.integrations.django import require_quorum
from authsig.privy.quorum import KeyQuorum

QUORUM: list[KeyQuorum] = []
"""The quorum of the protected views (set by :func:`configure`)."""


def quorum_for(request: Any) -> KeyQuorum:
    """The resolver of the protected views: the site's quorum."""
    return QUORUM[0]


async def quorum_for_async(request: Any) -> KeyQuorum:
    """The same, async."""
    return QUORUM[0]


def post_only(request: Any) -> KeyQuorum | None:
    return QUORUM[0] if request.method == "POST" else None


def configure(quorum: KeyQuorum, authsig: dict[str, Any]) -> None:
    """Set up Django for this process (once): this module's URLs, the authsig middleware,
    ``AUTHSIG = authsig``."""
    import django
    from django.conf import settings

    QUORUM[:] = [quorum]
    if settings.configured:
        return
    settings.configure(
        DEBUG=False,
        SECRET_KEY="authsig-tests-only",
        ROOT_URLCONF="_django_site",
        ALLOWED_HOSTS=["127.0.0.1", "localhost", "testserver"],
        INSTALLED_APPS=[],
        MIDDLEWARE=[
            "django.middleware.common.CommonMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "authsig.integrations.django.AuthSigMiddleware",
        ],
        AUTHSIG=authsig,
        USE_TZ=True,
        LOGGING_CONFIG=None,
    )
    django.setup()


def wsgi() -> Any:
    """gunicorn factory: the project configured from the environment."""
    from django.core.wsgi import get_wsgi_application

    keys = tuple(os.environ["AUTHSIG_TEST_KEYS"].split(","))
    quorum = KeyQuorum(public_keys=keys, authorization_threshold=2, id="treasury")  # type: ignore[arg-type]
    authsig = {
        "public_base_url": os.environ["AUTHSIG_TEST_BASE_URL"],
        "app_ids": [os.environ["AUTHSIG_TEST_APP_ID"]],
        # The middleware's routes: a quorum, and a resolver named by its dotted path.
        "quorums": {"mapped": quorum, "api:rpc": "_django_site.quorum_for"},
    }
    configure(quorum, authsig)
    return get_wsgi_application()


def echo_of(request: Any) -> JsonResponse:
    decision = request.authsig
    return JsonResponse(
        {
            "approved": None if decision is None else decision.approved,
            "members": None if decision is None else len(decision.approved_members),
            "body": request.body.decode(),
            "query": request.META.get("QUERY_STRING", ""),
        }
    )


@csrf_exempt
@require_quorum(quorum_for)
def echo(request: Any) -> JsonResponse:
    return echo_of(request)


@csrf_exempt
@require_quorum(quorum_for_async)
async def echo_async(request: Any) -> JsonResponse:
    return echo_of(request)


@csrf_exempt
@require_quorum(post_only)
def maybe(request: Any) -> JsonResponse:
    return echo_of(request)


@csrf_exempt
def plain(request: Any) -> JsonResponse:
    return echo_of(request)


def open_view(request: Any) -> JsonResponse:
    return JsonResponse({"authsig": repr(getattr(request, "authsig", "absent"))})


@require_quorum(quorum_for)
class Echo(View):
    def post(self, request: Any) -> JsonResponse:
        return echo_of(request)


@require_quorum(quorum_for_async)
class EchoAsync(View):
    async def post(self, request: Any) -> JsonResponse:
        return echo_of(request)


urlpatterns = [
    path("v1/echo", echo, name="echo"),
    path("v1/echo-async", echo_async, name="echo-async"),
    path("v1/cbv", csrf_exempt(Echo.as_view()), name="cbv"),
    path("v1/cbv-async", csrf_exempt(EchoAsync.as_view()), name="cbv-async"),
    path("v1/mapped", plain, name="mapped"),
    path("v1/maybe", maybe, name="maybe"),
    path("v1/api/", include(([path("rpc", plain, name="rpc")], "api"), namespace="api")),
    path("open", open_view, name="open"),
]
