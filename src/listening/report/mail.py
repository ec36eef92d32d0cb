"""Send a weekly report by e-mail (SMTP), and tell the webhook where it is.

The server comes from an Airflow connection (the DAG turns it into ``SmtpServer``) or from
``LISTENING_SMTP_URL`` (a secret: never from files):

- ``smtp://user:password@host:25``: plain SMTP (a relay on the same host or network);
- ``smtp+starttls://user:password@host:587``: STARTTLS required;
- ``smtps://user:password@host:465``: TLS from the first byte.

``?from=rapports@exemple.fr`` sets the sender (default ``listening@<host of the URL>``).
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import parse_qs, unquote, urlsplit

from listening.errors import ListeningError
from listening.report import Report, brand_slug
from listening.report.weeks import french_date

ENV_SMTP = "LISTENING_SMTP_URL"
SECURITY = {"smtp": "none", "smtp+starttls": "starttls", "smtps": "ssl"}
DEFAULT_PORT = {"none": 25, "starttls": 587, "ssl": 465}
TIMEOUT = 30.0  # seconds, per SMTP command


class MailError(ListeningError):
    """The report could not be handed to the SMTP server; the message says what to check."""


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    security: str = "none"  # none, starttls or ssl

    def __repr__(self) -> str:  # never print the password
        return f"SmtpServer({self.security}://{self.host}:{self.port}, from {self.sender})"


def server_from_url(url: str) -> SmtpServer:
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in SECURITY or not parts.hostname:
        raise MailError(
            f"{ENV_SMTP}: expected smtp://, smtp+starttls:// or smtps://user:password@host:port, "
            f"got a {scheme or 'schemeless'} URL"
        )
    security = SECURITY[scheme]
    sender = parse_qs(parts.query).get("from", [f"listening@{parts.hostname}"])[0]
    try:
        port = parts.port or DEFAULT_PORT[security]
    except ValueError:
        raise MailError(f"{ENV_SMTP}: the port is not a number") from None
    return SmtpServer(
        host=parts.hostname,
        port=port,
        sender=sender,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        security=security,
    )


def report_link(report: Report, base_url: str) -> str:
    """Where readers find the report: ``base_url`` + ``<brand>/<week>.pdf``, else its path."""
    if base_url:
        return f"{base_url.rstrip('/')}/{brand_slug(report.brand)}/{report.path.name}"
    return report.path.resolve().as_uri()


def subject(report: Report) -> str:
    week = report.week
    return (
        f"Rapport hebdomadaire {report.brand} : semaine {week.number} "
        f"(du {french_date(week.monday, week.sunday)})"
    )


def build_message(
    report: Report, recipients: list[str], sender: str, link: str, reading: str = ""
) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = subject(report)
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    msg["Content-Language"] = "fr"
    body = [
        "Bonjour,",
        "",
        f"Voici le rapport de réputation de {report.brand} pour la {report.week.label()}, "
        "en pièce jointe (PDF).",
    ]
    if reading:
        body += ["", f"En bref : {reading}"]
    body += ["", f"Le rapport est aussi disponible ici : {link}", "", "— listening"]
    msg.set_content("\n".join(body))
    msg.add_attachment(
        report.path.read_bytes(),
        maintype="application",
        subtype="pdf",
        filename=f"rapport-{brand_slug(report.brand)}-{report.week}.pdf",
    )
    return msg


def send(server: SmtpServer, message: EmailMessage) -> None:
    """Hand the message to the server; ``MailError`` names the server and what to check."""
    where = f"{server.host}:{server.port}"
    try:
        if server.security == "ssl":
            client = smtplib.SMTP_SSL(
                server.host, server.port, timeout=TIMEOUT, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(server.host, server.port, timeout=TIMEOUT)
        with client:
            if server.security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if server.username:
                client.login(server.username, server.password or "")
            client.send_message(message)
    except smtplib.SMTPAuthenticationError:
        raise MailError(
            f"the SMTP server {where} refused the login {server.username!r}: check the user and "
            f"password of the connection ({ENV_SMTP} or the Airflow connection)"
        ) from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise MailError(
            f"the SMTP server {where} refused the recipients {', '.join(exc.recipients)}: "
            "check report_recipients in listening.toml"
        ) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise MailError(
            f"could not send the report through {where}: {type(exc).__name__}: {exc}; check the "
            f"host, port and security ({ENV_SMTP} or the Airflow connection)"
        ) from None


def deliver(
    config,
    report: Report,
    server: SmtpServer | None,
    *,
    webhook_url: str | None = None,
    say=print,
) -> dict:
    """E-mail the report to the brand's ``report_recipients`` and post its link to the webhook.

    Returns what was done, small enough for an XCom. A missing server with recipients
    configured raises: the report was promised to someone.
    """
    from listening.notify import post_json

    recipients = list(config.brand(report.brand).report_recipients)
    link = report_link(report, config.settings.report_base_url)
    done = {"brand": report.brand, "week": str(report.week), "n_recipients": 0, "posted": False}
    if recipients:
        if server is None:
            raise MailError(
                f"{report.brand} has report_recipients but no SMTP server is set: define the "
                f"Airflow connection listening_smtp or {ENV_SMTP}"
            )
        send(server, build_message(report, recipients, server.sender, link, report.reading))
        say(f"{report.brand}: report e-mailed to {len(recipients)} recipient(s) via {server!r}")
        done["n_recipients"] = len(recipients)
    else:
        say(f"{report.brand}: no report_recipients in the config, no e-mail")
    if webhook_url:
        text = f"📄 {subject(report)} : {link}"
        delivery = post_json(
            webhook_url,
            {"text": text},
            allow_private_networks=config.settings.allow_private_networks,
        )
        if not delivery.ok:
            say(f"{report.brand}: the webhook did not take the link: {delivery.error}")
        done["posted"] = delivery.ok
    return done
