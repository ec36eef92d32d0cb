"""Deliver a message to a webhook: one HTTP POST of Slack-compatible JSON ``{"text": …}``.

The URL comes from the ``LISTENING_WEBHOOK_URL`` environment variable (a secret: never from
files). Connections go through the network guard, as for feeds, and redirects are not
followed: a webhook that redirects is misconfigured, and following it could reach a private
address. Failures are returned, not raised: the caller stores them and retries at the next build.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import requests

from listening.collect.guard import AddressRule, GuardedAdapter
from listening.errors import SourceBlocked

TRIES = 3
BACKOFF_SECONDS = 1.0  # waits 1 s, then 2 s between the 3 tries
TIMEOUT = (5.0, 10.0)  # connect, read (seconds)
USER_AGENT = "listening-alerts (self-hosted social listening)"  # no made-up contact URL


@dataclass
class Delivery:
    ok: bool
    attempts: int
    error: str | None = None


def _session(allow_private_networks: bool) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no environment proxies: the guard must see the real peer
    adapter = GuardedAdapter(AddressRule(allow_private_networks=allow_private_networks))
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def post_json(
    url: str,
    payload: dict,
    *,
    allow_private_networks: bool = False,
    tries: int = TRIES,
    backoff: float = BACKOFF_SECONDS,
    timeout: tuple[float, float] = TIMEOUT,
    sleep: Callable[[float], None] = time.sleep,
) -> Delivery:
    """POST ``payload`` as JSON; retry connection errors, 429 and 5xx with exponential backoff.

    Any 2xx is success. Other 4xx and 3xx are not retried (the same request would fail the same
    way) but are reported like the rest, so the alert stays ``failed`` and is retried later.
    """
    error = None
    attempts = 0
    with _session(allow_private_networks) as session:
        for attempt in range(tries):
            attempts = attempt + 1
            try:
                response = session.post(
                    url,
                    json=payload,
                    timeout=timeout,
                    allow_redirects=False,
                    headers={"User-Agent": USER_AGENT},
                )
            except SourceBlocked as exc:
                return Delivery(False, attempts, f"{exc}; check LISTENING_WEBHOOK_URL")
            except requests.RequestException as exc:
                error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
            else:
                status = response.status_code
                if 200 <= status < 300:
                    return Delivery(True, attempts)
                error = f"HTTP {status} from the webhook"
                if 300 <= status < 400:
                    location = response.headers.get("Location", "?")
                    return Delivery(
                        False,
                        attempts,
                        f"{error} (redirect to {location}, not followed); set "
                        "LISTENING_WEBHOOK_URL to the final URL",
                    )
                if status != 429 and status < 500:
                    return Delivery(False, attempts, error)
            if attempt + 1 < tries:
                sleep(backoff * 2**attempt)
    return Delivery(False, attempts, error)
