"""`watchbill audit verify`: check the audit log's chain, on the server, with its key."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from watchbill.audit import chain
from watchbill.cli.common import fail, print_json, read_ctx

app = typer.Typer(no_args_is_help=True)
HEAD = re.compile(r"^#?(\d{1,18}):([0-9a-f]{64})$")


def _old_key(path: Path) -> bytes:
    try:
        value = path.read_text().strip()
    except OSError as exc:
        raise fail(f"--key-file {path}: {exc.strerror}") from exc
    if len(value) < 32:
        raise fail(f"--key-file {path}: holds no server key (32 characters or more)")
    return value.encode()


@app.command("verify")
def verify_cmd(
    key_file: Annotated[
        list[Path] | None,
        typer.Option(help="a retired server key (a file holding it), for entries sealed with it"),
    ] = None,
    expect_head: Annotated[
        str | None,
        typer.Option(help="ID:HASH of a head recorded earlier: fails if it is gone"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="the verdict as JSON")] = False,
) -> None:
    """Check every entry's seal against the one before it; exit 1 naming the first bad one.

    Prints the head (the last entry's id and hash): record it elsewhere and pass it to
    --expect-head later, which shows entries removed from the end, the one change a
    chain cannot show by itself.
    """
    head = HEAD.match(expect_head or "")
    if expect_head is not None and head is None:
        raise fail("--expect-head must be ID:HASH, as printed by an earlier verify")
    keys = [_old_key(p) for p in key_file or []]
    with read_ctx() as ctx:
        verdict = chain.verify(ctx.session, keys)
        head_kept = head is None or chain.holds(ctx.session, int(head[1]), head[2])
    if as_json:
        print_json({**chain.verdict_view(verdict), "expectedHeadPresent": head_kept})
    if verdict.broken is not None:
        raise fail(f"audit entry #{verdict.broken.id}: {verdict.broken.reason}")
    if not head_kept:
        assert head is not None
        raise fail(
            f"entry #{head[1]} with the hash recorded is no longer in the log: "
            "entries were removed from its end, or the log was replaced"
        )
    if not as_json:
        typer.echo(
            f"audit log intact: {verdict.entries} entries"
            + (f"; head {verdict.head_id}:{verdict.head_hash}" if verdict.head_id else "")
        )
