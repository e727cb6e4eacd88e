"""Email over SMTP (stdlib smtplib): plain text and HTML, links to act in one click."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from watchbill.notify.channels.result import SendResult
from watchbill.notify.message import Message
from watchbill.settings import Settings

_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent.parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str | None
    port: int
    username: str | None
    password: str | None
    sender: str
    starttls: bool
    tls: bool
    timeout: float

    @classmethod
    def from_settings(cls, s: Settings) -> SmtpConfig:
        return cls(
            host=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username,
            password=s.smtp_password,
            sender=s.smtp_from,
            starttls=s.smtp_starttls,
            tls=s.smtp_tls,
            timeout=s.notify_timeout_seconds,
        )


def compose(message: Message, *, to: str, sender: str) -> EmailMessage:
    """The email: subject from the headline, text and HTML parts, and a Message-ID fixed
    per delivery, so a resend after a crash threads as the same message."""
    mail = EmailMessage()
    mail["Subject"] = f"[Watchbill] {message.headline}"
    mail["From"] = sender
    mail["To"] = to
    mail["Date"] = formatdate(localtime=False)
    domain = sender.rpartition("@")[2] or "watchbill.invalid"
    mail["Message-ID"] = f"<delivery-{message.delivery_id}@{domain}>"
    mail["X-Watchbill-Delivery"] = str(message.delivery_id)
    context = {"m": message, "inc": message.incident, "links": message.links}
    mail.set_content(_TEMPLATES.get_template("email.txt").render(context))
    mail.add_alternative(_TEMPLATES.get_template("email.html").render(context), subtype="html")
    return mail


def send(config: SmtpConfig, message: Message, *, to: str) -> SendResult:
    if not config.host:
        return SendResult.failed("email is not configured: set WATCHBILL_SMTP_HOST", permanent=True)
    mail = compose(message, to=to, sender=config.sender)
    try:
        if config.tls:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                config.host,
                config.port,
                timeout=config.timeout,
                context=ssl.create_default_context(),
            )
        else:
            smtp = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
        with smtp:
            if config.starttls and not config.tls:
                smtp.starttls(context=ssl.create_default_context())
            if config.username:
                smtp.login(config.username, config.password or "")
            smtp.send_message(mail)
    except smtplib.SMTPRecipientsRefused as exc:
        code, reply = next(iter(exc.recipients.values()))
        return _refused(code, reply)
    except smtplib.SMTPResponseException as exc:
        return _refused(exc.smtp_code, exc.smtp_error)
    except (smtplib.SMTPException, OSError) as exc:
        return SendResult.failed(f"SMTP: {type(exc).__name__}: {exc}")
    return SendResult(ok=True, code=250)


def _refused(code: int, reply: bytes | str) -> SendResult:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else reply
    # 5xx replies are final (no such mailbox, auth refused); 4xx are "try later".
    return SendResult.failed(f"SMTP {code}: {text}", code=code, permanent=500 <= code < 600)
