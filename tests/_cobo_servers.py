"""Real HTTP servers for the Cobo tests: uvicorn (ASGI) and waitress (WSGI) on 127.0.0.1.

They are the shared harnesses of ``servers.py``; this module adds the Cobo capture app.
"""

from __future__ import annotations

from typing import Any

# The shared servers (tests/servers.py): one uvicorn and one waitress harness for every test.
from servers import uvicorn_thread as uvicorn_server
from servers import waitress_thread as waitress_server

__all__ = ["capture_app", "uvicorn_server", "verify_record", "waitress_server"]


def capture_app(records: list[dict[str, Any]]) -> Any:
    """An ASGI app that records each request as it arrived (raw path, raw query, headers,
    body) and answers 200 with that record as JSON."""
    import json

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        record = {
            "method": scope["method"],
            "path": (scope.get("raw_path") or scope["path"].encode()).decode("latin-1"),
            "query": scope["query_string"].decode("latin-1"),
            "headers": {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]},
            "body": body.decode("utf-8"),
        }
        records.append(record)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": json.dumps(record).encode()})

    return app


def verify_record(record: dict[str, Any], api_key: str, now_ms: int | None = None) -> Any:
    """authsig's decision on a request that :func:`capture_app` recorded."""
    from authsig.cobo import verify_request

    return verify_request(
        record["headers"],
        method=record["method"],
        path=record["path"],
        query=record["query"],
        body=record["body"],
        api_keys=[api_key],
        now_ms=now_ms,
    )
