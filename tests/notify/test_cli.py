"""`watchbill notify …` as an operator runs it: a real subprocess, a real receiver."""

from __future__ import annotations

from pathlib import Path

import orjson

from tests.cli.helpers import run
from tests.notify.helpers import make_incident, make_user, page
from tests.notify.receivers import http_receiver
from watchbill.adapters.db.engine import Database
from watchbill.core.clock import FakeClock
from watchbill.notify.channels.webhook import destination_secret


def test_notify_test_log_and_signing_secret(
    db: Database, clock: FakeClock, db_url: str, tmp_path: Path
) -> None:
    data = tmp_path / "cli-data"
    with http_receiver(200, 500) as hook:
        make_user(db, clock, "ada", [("hook", "webhook", hook.url)])
        sent = run("notify", "test", "--user", "ada", "--json", data_dir=data, database_url=db_url)
        assert sent.code == 0, sent.err
        [item] = orjson.loads(sent.out)
        assert (item["status"], item["contactMethod"], item["responseCode"]) == (
            "sent",
            "hook",
            200,
        )
        assert orjson.loads(hook.requests[0].body)["event"] == "test"

        refused = run("notify", "test", "--user", "ada", data_dir=data, database_url=db_url)
        assert refused.code == 1 and "not every test notification was sent" in refused.err
        assert "HTTP 500" in refused.out

    secret = run(
        "notify",
        "signing-secret",
        "--user",
        "ada",
        "--contact-method",
        "hook",
        data_dir=data,
        database_url=db_url,
    )
    key = (data / "secret_key").read_text().strip().encode()
    assert secret.out.strip() == destination_secret(key, "ada", "hook", hook.url)

    iid = make_incident(db, clock)
    page(db, clock, iid, "ada")
    log = run("notify", "log", str(iid), data_dir=data, database_url=db_url)
    assert log.code == 0 and "ada" in log.out and "queued" in log.out

    for bad, words in [
        (("notify", "test", "--user", "Not A Name"), "invalid name"),
        (("notify", "test", "--user", "nobody"), "does not exist"),
        (("notify", "test", "--user", "ada", "--contact-method", "pager"), "no contact method"),
        (("notify", "log", "999"), "does not exist"),
        (("notify", "signing-secret", "--user", "ada", "--contact-method", "x"), "no contact"),
    ]:
        got = run(*bad, data_dir=data, database_url=db_url)
        assert got.code != 0 and words in got.err, (bad, got.err)
