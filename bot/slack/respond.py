"""Replies out: the invoker's answer on the surface they used, and a prompt as a modal. A reply's notices for
other people are not sent here: the handlers wrote them to the outbox, and its sender delivers them."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from handlers import Reply
from handlers.admission import BUSY
from handlers.dispatch import SORRY
from handlers.ports import DeliveryFailed

from . import render
from .notifier import SlackNotifier, post_to_response_url
from .translate import Where

log = logging.getLogger(__name__)


async def deliver(client: AsyncWebClient, notifier: SlackNotifier, reply: Reply, where: Where) -> None:
    """Everything a reply says to the invoker: a prompt (a modal while the trigger lasts) and its text."""
    if reply.prompt is not None and where.trigger_id:
        context = render.PromptContext(
            reply.prompt.submit_action_id,
            reply.prompt.value,
            where.channel_id,
            where.response_url,
            where.message_ts,
        )
        try:
            await client.views_open(trigger_id=where.trigger_id, view=render.prompt_modal(reply.prompt, context))
            reply = replace(reply, text="", prompt=None)
        except SlackApiError as error:  # trigger expired (3 s): the reply text says how to type it instead
            log.warning("views.open failed: %s", error.response.get("error"))
    if reply.text:
        await answer(client, notifier, reply, where)


def outcome(task: asyncio.Task[Reply]) -> Reply | None:
    """A finished command's answer: its reply, or "something went wrong" if it failed before the handlers could
    answer (BackgroundWork logs the error; nothing was changed); None while it runs or once it is cancelled."""
    if not task.done() or task.cancelled():
        return None
    return task.result() if task.exception() is None else Reply(SORRY, error=True)


def command_answer(reply: Reply) -> dict[str, Any]:
    """A command's answer as Slack shows it, in its ack or posted to its response_url."""
    return {**render.message(reply), "response_type": "ephemeral" if reply.ephemeral else "in_channel"}


def fits_in_ack(reply: Reply, where: Where) -> bool:
    """A command's reply can ride in its ack: it has text to show, and no modal to open instead."""
    return bool(reply.text) and where.response_url is not None and not (reply.prompt is not None and where.trigger_id)


async def answer(client: AsyncWebClient, notifier: SlackNotifier, reply: Reply, where: Where) -> None:
    """The reply to the invoker, on the surface they used."""
    body = render.message(reply)
    try:
        if where.response_url:
            payload = command_answer(reply)
            if where.message_ts is not None:  # a button on a message: replace it, or answer beside it
                payload["replace_original"] = reply.replace_original and not reply.error
            await post_to_response_url(where.response_url, payload, timing=notifier.timing, session=notifier.http())
        elif reply.replace_original and where.channel_id and where.message_ts and not reply.error:
            await client.chat_update(channel=where.channel_id, ts=where.message_ts, **body)
        elif where.channel_id and not where.home and (where.direct or not reply.ephemeral):
            thread_ts = where.thread_ts if where.thread_ts and not reply.ephemeral else None
            await client.chat_postMessage(channel=where.channel_id, thread_ts=thread_ts, **body)
        elif where.channel_id and not where.home:
            thread_ts = where.thread_ts if where.in_thread else None
            await client.chat_postEphemeral(channel=where.channel_id, user=where.user_id, thread_ts=thread_ts, **body)
        elif not where.home or reply.error:
            await notifier.send_direct(workspace=where.team_id, user_id=where.user_id, reply=reply, client=client)
    except (TimeoutError, SlackApiError, DeliveryFailed, OSError) as error:
        log.warning("could not answer %s in Slack: %s", where.user_id, error)


async def busy(body: dict[str, Any], notifier: SlackNotifier) -> None:
    """A request ownerbot could not take on in time: say so where the person is looking (its response_url)."""
    url = body.get("response_url")
    if not isinstance(url, str) or not url:
        return
    payload = {**render.message(Reply(BUSY, error=True)), "response_type": "ephemeral"}
    try:
        await post_to_response_url(url, payload, timing=notifier.timing, session=notifier.http())
    except (TimeoutError, DeliveryFailed, OSError) as error:
        log.warning("could not say busy in Slack: %s", error)
