"""Text survives intake exactly (emoji, right-to-left, combining marks), control characters
become U+FFFD, and NUL, which PostgreSQL cannot store, never fails a request."""

from __future__ import annotations

from tests.intake.helpers import pd_event, rows

FFFD = "\ufffd"
# A family emoji (ZWJ sequence), a flag, Hebrew and Arabic with an RTL mark, combining
# accents, CJK, a character outside the BMP, and the BOM-like zero-width no-break space.
UNICODE = (
    "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466 \U0001f1e9\U0001f1ea "
    "שלום עולם \u200f\u0645\u0631\u062d\u0628\u0627 e\u0301 漢字 "
    "\U0001d518\U0001d52b\U0001d526 \ufeff"
)


def test_unicode_is_kept_exactly(client, keys, db):
    event = pd_event(keys["pd"], dedup_key=f"key {UNICODE}")
    event["payload"].update(
        summary=f"Summary {UNICODE}",
        source=f"host-{UNICODE}",
        component=UNICODE,
        custom_details={UNICODE: [UNICODE, {"nested": UNICODE}]},
    )
    response = client.post("/v2/enqueue", json=event)
    assert response.status_code == 202, response.text
    assert response.json()["dedup_key"] == f"key {UNICODE}"

    am = {
        "alerts": [
            {"labels": {"alertname": "U", "who": UNICODE}, "annotations": {"summary": UNICODE}}
        ]
    }
    assert client.post(f"/integrations/{keys['am']}/alertmanager", json=am).status_code == 202
    gen = {
        "dedupKey": UNICODE,
        "summary": UNICODE,
        "labels": {"x": UNICODE},
        "details": {"d": UNICODE},
    }
    assert client.post(f"/integrations/{keys['gen']}/events", json=gen).status_code == 202

    pd_alert, am_alert, gen_alert = rows(db, "alerts")
    assert pd_alert["dedup_key"] == f"key {UNICODE}"
    assert pd_alert["summary"] == f"Summary {UNICODE}"
    assert pd_alert["source"] == f"host-{UNICODE}"
    assert pd_alert["labels"]["component"] == UNICODE
    assert pd_alert["details"] == {UNICODE: [UNICODE, {"nested": UNICODE}]}
    assert am_alert["summary"] == UNICODE and am_alert["labels"]["who"] == UNICODE
    assert gen_alert["dedup_key"] == UNICODE
    assert gen_alert["labels"]["x"] == UNICODE and gen_alert["details"] == {"d": UNICODE}
    assert rows(db, "incidents")[0]["title"] == f"Summary {UNICODE}"


def test_control_characters_become_replacement_characters(client, keys, db):
    event = pd_event(keys["pd"], dedup_key="ctl")
    event["payload"].update(
        summary="bell\x07 esc\x1b[31m del\x7f nul\x00 end",
        source="src\x00",
        component="comp\x01",
    )
    assert client.post("/v2/enqueue", json=event).status_code == 202
    [alert] = rows(db, "alerts")
    assert alert["summary"] == f"bell{FFFD} esc{FFFD}[31m del{FFFD} nul{FFFD} end"
    assert alert["source"] == f"src{FFFD}"
    assert alert["labels"]["component"] == f"comp{FFFD}"
    assert rows(db, "incidents")[0]["title"] == alert["summary"]


def test_newlines_and_tabs_are_not_control_characters_here(client, keys, db):
    event = pd_event(keys["pd"], dedup_key="ws")
    event["payload"]["summary"] = "line one\nline two\r\n\tindented"
    assert client.post("/v2/enqueue", json=event).status_code == 202
    assert rows(db, "alerts")[0]["summary"] == "line one\nline two\r\n\tindented"


def test_nul_anywhere_is_accepted_on_both_databases(client, keys, db):
    # PostgreSQL refuses NUL in text and \u0000 in JSONB: every place it can arrive.
    event = pd_event(keys["pd"], dedup_key="a\x00b")
    event["payload"]["custom_details"] = {"k\x00": "v\x00", "list": ["\x00"]}
    event["links"] = [{"href": "https://x.example.com/\x00", "text": "t\x00"}]
    first = client.post("/v2/enqueue", json=event)
    assert first.status_code == 202, first.text
    assert first.json()["dedup_key"] == f"a{FFFD}b"

    am = {
        "alerts": [
            {
                "labels": {"alertname": "Nul\x00", "n\x00": "v\x00"},
                "annotations": {"summary": "s\x00"},
                "fingerprint": "fp\x00",
                "generatorURL": "http://prom/\x00",
            }
        ]
    }
    assert client.post(f"/integrations/{keys['am']}/alertmanager", json=am).status_code == 202
    gen = {
        "dedupKey": "g\x00",
        "summary": "s\x00",
        "source": "src\x00",
        "labels": {"l\x00": "v\x00"},
        "details": {"d\x00": ["\x00"]},
    }
    assert client.post(f"/integrations/{keys['gen']}/events", json=gen).status_code == 202
    change = {
        "routing_key": keys["pd"],
        "payload": {"summary": "s\x00", "custom_details": {"\x00": "\x00"}},
    }
    assert client.post("/v2/change/enqueue", json=change).status_code == 202

    pd_alert, am_alert, gen_alert = rows(db, "alerts")
    assert pd_alert["dedup_key"] == f"a{FFFD}b"
    assert pd_alert["details"] == {f"k{FFFD}": f"v{FFFD}", "list": [FFFD]}
    assert pd_alert["raw"]["payload"]["custom_details"]["list"] == [FFFD]
    assert pd_alert["links"] == [{"href": f"https://x.example.com/{FFFD}", "text": f"t{FFFD}"}]
    assert am_alert["dedup_key"] == f"fp{FFFD}"
    assert am_alert["labels"] == {"alertname": f"Nul{FFFD}", f"n{FFFD}": f"v{FFFD}"}
    assert am_alert["summary"] == f"s{FFFD}"
    assert gen_alert["dedup_key"] == f"g{FFFD}"
    assert gen_alert["details"] == {f"d{FFFD}": [FFFD]}
    assert gen_alert["labels"][f"l{FFFD}"] == f"v{FFFD}"
    [stored_change] = rows(db, "change_events")
    assert stored_change["summary"] == f"s{FFFD}"
    assert stored_change["details"] == {FFFD: FFFD}

    # the same key with NUL is the same alert: resolving it finds it
    resolve = client.post("/v2/enqueue", json=pd_event(keys["pd"], "resolve", dedup_key="a\x00b"))
    assert resolve.status_code == 202
    assert rows(db, "alerts")[0]["status"] == "resolved"


def test_long_text_is_cut_not_refused_where_the_sender_cannot_control_it(client, keys, db):
    # Alertmanager annotations and label-derived text: the alert matters more than its text.
    long = "x" * 5000
    am = {"alerts": [{"labels": {"alertname": "Long"}, "annotations": {"summary": long[:4096]}}]}
    assert client.post(f"/integrations/{keys['am']}/alertmanager", json=am).status_code == 202
    [alert] = rows(db, "alerts")
    assert alert["summary"] == "x" * 1024
    assert alert["details"]["summary"] == "x" * 4096
