"""Framework integrations: FastAPI (and Starlette), Django and Flask.

Each is one module with an optional extra (``authsig[fastapi]``, ``authsig[django]``,
``authsig[flask]``) and imports its framework; this package imports none of them, so that
``import authsig.integrations`` costs nothing. All three are adapters over the Privy Gate
(:func:`authsig.privy.middleware.privy_gate`): the same checks, reason codes, statuses, problem
documents and replay store as :class:`~authsig.asgi.AuthSigMiddleware`.

- :mod:`authsig.integrations.fastapi`: ``AuthSig(app, ...)`` and the dependency
  ``Depends(require_quorum(quorum))``.
- :mod:`authsig.integrations.django`: ``settings.AUTHSIG``, the middleware
  ``authsig.integrations.django.AuthSigMiddleware`` (quorums by URL name) and the view
  decorator ``@require_quorum(quorum)``.
- :mod:`authsig.integrations.flask`: ``AuthSig(app, ...)`` (or ``init_app``) and the route
  decorator ``@require_quorum(quorum)``.
"""

from __future__ import annotations

__all__: list[str] = []
