"""Channel formats that need no database: Slack Block Kit, provider JSON, the secret file."""

from __future__ import annotations

import stat
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import orjson

from tests.notify.receivers import http_receiver
from watchbill.adapters.serverkey import server_key
from watchbill.notify.channels import provider, slack
from watchbill.notify.message import IncidentInfo, Links, Message
from watchbill.notify.providers import ProviderSpec
from watchbill.settings import Settings

NOW = datetime(2026, 3, 2, tzinfo=UTC)
LINKS = Links("https://w.test/act/a.b", "https://w.test/act/c.d", "https://w.test/incidents/7")
PAGE = Message(
    delivery_id=3,
    user="ada",
    contact_method="team-chat",
    urgency="high",
    reason="level 1 of checkout-policy",
    incident=IncidentInfo(7, "Checkout <5xx> & slow", "SEV2", "triggered", "high", "checkout"),
    links=LINKS,
)


def test_slack_block_kit_layout() -> None:
    body = slack.payload(PAGE)
    assert body["text"] == "[SEV2] #7 Checkout <5xx> & slow (checkout)"
    header, facts, reason, actions = body["blocks"]
    assert header == {
        "type": "header",
        "text": {"type": "plain_text", "text": body["text"], "emoji": False},
    }
    assert [f["text"] for f in facts["fields"]] == [
        "*Service*\ncheckout",
        "*Severity*\nSEV2",
        "*Status*\ntriggered",
        "*Urgency*\nhigh",
    ]
    assert reason["text"]["text"] == "_level 1 of checkout-policy_"
    assert actions["type"] == "actions"
    assert [(b["text"]["text"], b["url"], b.get("style")) for b in actions["elements"]] == [
        ("Acknowledge", LINKS.acknowledge, "primary"),
        ("Resolve", LINKS.resolve, "danger"),
        ("Open incident", LINKS.incident, None),
    ]


def test_slack_escapes_mrkdwn_and_trims_the_header() -> None:
    long = replace(PAGE, incident=IncidentInfo(1, "x" * 300, "SEV4", "triggered", "low", "a<b>"))
    blocks = slack.payload(long)["blocks"]
    assert len(blocks[0]["text"]["text"]) == 150
    assert "*Service*\na&lt;b&gt;" in [f["text"] for f in blocks[1]["fields"]]


def test_slack_message_reaches_a_receiver() -> None:
    with http_receiver() as hook:
        result = slack.send(PAGE, url=hook.url, timeout=5)
    assert (result.ok, result.code) == (True, 200)
    assert orjson.loads(hook.requests[0].body) == slack.payload(PAGE)


def test_provider_json_template_with_tojson_and_signature(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("WATCHBILL_TEST_SIGNING", "s3cret")
    spec = ProviderSpec.model_validate(
        {
            "contactTypes": ["phone"],
            "url": "https://voice.example.com/call",
            "body": '{"to": {{ address|tojson }}, "say": {{ text|tojson }}, '
            '"n": {{ incident.number }}}',
            "signingSecretEnv": "WATCHBILL_TEST_SIGNING",
        }
    )
    body = provider.render(spec, PAGE, address="+4930123")
    assert orjson.loads(body) == {"to": "+4930123", "say": PAGE.text, "n": 7}
    headers = provider.headers(spec, body, NOW, 3)
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Watchbill-Signature"].startswith("sha256=")
    # A template that names a missing variable is a permanent, explained failure.
    bad = spec.model_copy(update={"body": "{{ nosuch.thing }}"})
    result = provider.send("voice", bad, PAGE, address="+1", now=NOW, timeout=1)
    assert (result.ok, result.permanent) == (False, True)
    assert "voice" in result.error and "nosuch" in result.error


def test_sandbox_refuses_reaching_into_python() -> None:
    spec = ProviderSpec.model_validate(
        {
            "contactTypes": ["sms"],
            "url": "https://x.test/",
            "format": "text",
            "body": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        }
    )
    result = provider.send(
        "x",
        spec,
        PAGE,
        address="+1",
        now=__import__("datetime").datetime.now(__import__("datetime").UTC),
        timeout=1,
    )
    assert (result.ok, result.permanent) == (False, True)


def test_generated_secret_key_is_private_and_stable(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    first = server_key(settings)
    path = tmp_path / "data" / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert server_key(settings) == first and len(first) >= 32
    assert server_key(Settings(data_dir=tmp_path / "data", secret_key="k" * 40)) == b"k" * 40
    assert list((tmp_path / "data").iterdir()) == [path]  # no leftover temporary file
