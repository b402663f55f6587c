"""The URL check of ``sign_request`` against the official Python SDK's (``privy-client``).

The SDK refuses a URL that is not ``https://``/``http://`` or ends in a slash. authsig refuses
every URL the SDK refuses, and a few more that the SDK signs but no server can verify (each
named here with the reason it is refused). The Node SDK has no check of its own: it always
builds ``{baseURL}/v1/...`` and documents "should not contain a trailing slash".
"""

from __future__ import annotations

import pytest
from _interop import python_driver

from authsig.privy.signing import RequestURLError, check_request_url

pytestmark = pytest.mark.interop

#: URLs the SDK signs and authsig refuses, with the check that refuses them.
STRICTER = {
    "https://api.privy.io/v1/wallets#top": "fragment",  # never sent, so never verified
    "https://api.privy.io": "no_path",  # sent as "/", a trailing slash
    "https://user:pw@api.privy.io/v1/wallets": "credentials",
    "https://api.privy.io/v1/wallets/?limit=1": "trailing_slash",
    "https://api.privy.io/v1/w 1": "whitespace",
    "https:///v1/wallets": "no_host",
}

URLS = [
    "https://api.privy.io/v1/wallets/w1/rpc",
    "http://127.0.0.1:8080/v1/wallets/w1/rpc",
    "https://api.privy.io/v1/wallets?cursor=a/b",
    "https://api.privy.io/v1/wallets/",
    "https://api.privy.io/",
    "/v1/wallets/w1/rpc",
    "api.privy.io/v1/wallets",
    "//api.privy.io/v1/wallets",
    "ftp://api.privy.io/v1/wallets",
    "HTTPS://api.privy.io/v1/wallets",
    *STRICTER,
]


def _ours(url: str) -> str | None:
    try:
        check_request_url(url)
    except RequestURLError as exc:
        return exc.problem
    return None


def test_authsig_refuses_every_url_the_sdk_refuses() -> None:
    driver = python_driver()
    cases = [
        {"op": "format", "method": "POST", "url": url, "headers": {"privy-app-id": "a"}}
        for url in URLS
    ]
    results = driver.run(cases)
    sdk_refuses = {url for url, result in zip(URLS, results, strict=True) if "error" in result}
    for result in results:
        if "error" in result:
            assert result["error"].startswith("ValueError: Authorization request URL"), result
    ours = {url: _ours(url) for url in URLS}
    # every URL the SDK refuses, authsig refuses too
    assert {url for url in sdk_refuses if ours[url] is None} == set()
    # and what authsig refuses beyond the SDK is exactly the documented list
    assert {url: ours[url] for url in URLS if url not in sdk_refuses and ours[url]} == STRICTER
    assert len(sdk_refuses) >= 7  # the check is there: relative, host-only, ftp, slashes
