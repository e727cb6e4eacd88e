"""Slack incoming webhooks: a Block Kit message with the incident and buttons to act.

Buttons are plain URL buttons (no Slack app needed): they open the signed action
link's confirmation page in the browser.
"""

from __future__ import annotations

from typing import Any

import orjson

from watchbill.notify.channels import http
from watchbill.notify.channels.result import SendResult
from watchbill.notify.message import Message

_HEADER_MAX = 150  # Slack's limit for a header block's text


def payload(message: Message) -> dict[str, Any]:
    inc, links = message.incident, message.links
    header = message.headline
    if len(header) > _HEADER_MAX:
        header = header[: _HEADER_MAX - 1] + "…"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header, "emoji": False}}
    ]
    if inc is None or links is None:
        blocks.append(_section(message.text))
        return {"text": message.headline, "blocks": blocks}
    fields = [
        ("Service", inc.service),
        ("Severity", inc.severity),
        ("Status", inc.status),
        ("Urgency", inc.urgency),
    ]
    blocks.append(
        {
            "type": "section",
            "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{_escape(v)}"} for k, v in fields],
        }
    )
    if message.reason:
        blocks.append(_section(f"_{_escape(message.reason)}_"))
    blocks.append(
        {
            "type": "actions",
            "elements": [
                _button("Acknowledge", links.acknowledge, "acknowledge", style="primary"),
                _button("Resolve", links.resolve, "resolve", style="danger"),
                _button("Open incident", links.incident, "open"),
            ],
        }
    )
    return {"text": message.headline, "blocks": blocks}


def send(message: Message, *, url: str, timeout: float) -> SendResult:
    return http.send(
        "POST",
        url,
        content=orjson.dumps(payload(message)),
        headers={"Content-Type": "application/json"},
        timeout=timeout,
    )


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _button(label: str, url: str, action_id: str, *, style: str = "") -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": label},
        "url": url,
        "action_id": action_id,
    }
    if style:
        button["style"] = style
    return button


def _escape(text: str) -> str:
    """Slack mrkdwn control characters, escaped as Slack documents."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
