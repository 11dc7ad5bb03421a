"""The baseline of bench/commands.py: a bare slack-bolt AsyncApp on aiohttp that verifies the signature and acks.

    python -m bench.bare_slack PORT API_URL SIGNING_SECRET

It imports nothing of ownerbot, so its CPU time and peak RSS are bolt's and aiohttp's alone.
"""

from __future__ import annotations

import sys
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient


def main() -> None:
    port, api_url, secret = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    bolt = AsyncApp(client=AsyncWebClient(token="xoxb-bench-token", base_url=api_url), signing_secret=secret)

    async def acknowledge(ack: Any) -> None:
        await ack()

    bolt.command("/claim")(acknowledge)
    bolt.command("/handoff")(acknowledge)
    bolt.action("ownerbot.handoff.accept")(acknowledge)

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    app = web.Application()
    app.router.add_post("/slack/events", events)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


if __name__ == "__main__":
    main()
