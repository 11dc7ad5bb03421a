"""The Bot Connector's token signing keys, fetched off the event loop and with a timeout.

botbuilder 4.17 refreshes the OpenID metadata and JWKS with blocking `requests.get` calls and no timeout, right
inside the event loop: one slow fetch stalls every request the server is handling. botbuilder keeps one key cache
per metadata URL (`JwtTokenExtractor.metadataCache`); `install` puts a `SigningKeys` there for each URL ownerbot's
tokens are checked against, so every refresh runs in a worker thread, bounded by TEAMS_KEY_FETCH_TIMEOUT_SECONDS,
one at a time. When a refresh fails, keys already known keep working (and the refresh is tried again in a few
minutes); with none known, the request is answered 503, so the Bot Connector retries it later.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import requests
from botframework.connector.auth import AuthenticationConstants, GovernmentConstants
from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor, _OpenIdMetadata

log = logging.getLogger(__name__)
RETRY_AFTER_FAILURE = timedelta(minutes=5)


class SigningKeysUnavailable(Exception):
    """The signing keys could not be fetched in time, and none are known: the request can't be checked now."""


class SigningKeys(_OpenIdMetadata):  # type: ignore[misc]  # botbuilder's own cache entry, refreshed our way
    keys: list[dict[str, Any]]
    last_updated: datetime

    def __init__(self, url: str, timeout: float) -> None:
        super().__init__(url)
        self.timeout = timeout
        self._lock: asyncio.Lock | None = None
        self._lock_loop: asyncio.AbstractEventLoop | None = None

    def _one_at_a_time(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock_loop is not loop:
            self._lock, self._lock_loop = asyncio.Lock(), loop
        return self._lock

    async def _refresh(self) -> None:
        started = self.last_updated
        async with self._one_at_a_time():
            if self.last_updated != started:  # another request refreshed them while this one waited
                return
            try:
                keys = await asyncio.wait_for(asyncio.to_thread(self._fetch), timeout=self.timeout * 2)
            except Exception as error:
                if not self.keys:
                    log.warning("could not fetch the Bot Connector's signing keys: %s", type(error).__name__)
                    raise SigningKeysUnavailable(type(error).__name__) from error
                log.warning("could not refresh the Bot Connector's signing keys (%s); using the known ones", error)
                self.last_updated = datetime.now() - timedelta(days=1) + RETRY_AFTER_FAILURE
                return
            self.keys = keys
            self.last_updated = datetime.now()

    def _fetch(self) -> list[dict[str, Any]]:
        """OpenID metadata, then its JWKS; runs in a worker thread, each call bounded by the timeout."""
        metadata = requests.get(self.url, timeout=self.timeout)
        metadata.raise_for_status()
        response = requests.get(metadata.json()["jwks_uri"], timeout=self.timeout)
        response.raise_for_status()
        keys: list[dict[str, Any]] = response.json()["keys"]
        return keys


def metadata_urls(configured: str) -> list[str]:
    """Every OpenID metadata URL botbuilder may check a token against with these settings."""
    urls = [configured] if configured else []
    urls += [
        AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL,
        AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL,
        GovernmentConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL,
        GovernmentConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL,
    ]
    return list(dict.fromkeys(urls))


def install(urls: Iterable[str], *, timeout: float) -> None:
    """Make botbuilder's key cache fetch these URLs' keys our way."""
    for url in urls:
        JwtTokenExtractor.metadataCache[url] = SigningKeys(url, timeout)
