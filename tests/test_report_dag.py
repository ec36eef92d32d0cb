"""The listening_report DAG end to end: the week's PDF beside the store, e-mailed through a real
SMTP server on loopback (aiosmtpd), its link posted to a loopback webhook."""

from __future__ import annotations

import email
import email.policy
import json
import socket
from datetime import UTC, datetime
from email.header import decode_header, make_header

import pytest

import tests.test_dags_run
from listening import pipeline
from listening.configfile import load_config
from listening.report import Report, report_path
from listening.report.mail import MailError, deliver, server_from_url
from listening.report.weeks import parse_week

pytest_plugins = ["tests.airflow_fixtures"]
webhook = tests.test_dags_run.webhook  # the loopback webhook fixture, shared

# Monday 30 November 2026, 07:00 in Paris: the run that reports week 48 (23–29 November),
# when the fixture feeds posted (tests.airflow_fixtures).
MONDAY_RUN = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
RECIPIENTS = ["equipe-acme@exemple.fr", "direction@exemple.fr"]


class Inbox:
    """An aiosmtpd handler keeping every message it accepts."""

    def __init__(self):
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp():
    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


def add_recipients(config_file) -> None:
    text = config_file.read_text("utf-8")
    line = f"report_recipients = {json.dumps(RECIPIENTS)}"
    config_file.write_text(text.replace("[[brands]]\n", f"[[brands]]\n{line}\n", 1), "utf-8")


def build_store(project) -> None:
    config = load_config(project.config)
    pipeline.init(config, project.db)
    pipeline.collect(config, project.db, now=MONDAY_RUN)
    pipeline.analyze_stage(config, project.db, now=MONDAY_RUN)
    pipeline.build_stage(config, project.db, now=MONDAY_RUN)


def test_weekly_dag_writes_mails_and_announces_the_report(
    project, smtp, webhook, airflow_home, monkeypatch
):
    from airflow.dag_processing.dagbag import DagBag

    from tests.airflow_fixtures import DAGS

    port, inbox = smtp
    hook_url, posted = webhook
    add_recipients(project.config)
    build_store(project)
    # The SMTP server as an Airflow connection (the DAG's first choice).
    monkeypatch.setenv(
        "AIRFLOW_CONN_LISTENING_SMTP",
        json.dumps(
            {"conn_type": "smtp", "host": "127.0.0.1", "port": port, "extra": {"from": "r@x.fr"}}
        ),
    )
    monkeypatch.setenv("LISTENING_WEBHOOK_URL", hook_url)

    bag = DagBag(dag_folder=str(DAGS))
    dag_run = bag.dags["listening_report"].test(logical_date=MONDAY_RUN, run_after=MONDAY_RUN)
    states = {ti.task_id: ti.state for ti in dag_run.get_task_instances()}
    assert str(dag_run.state) == "success", states

    pdf = report_path(project.db, "Acme", parse_week("2026-W48"))
    assert pdf == project.db.parent / "reports" / "acme" / "2026-W48.pdf"
    assert pdf.read_bytes().startswith(b"%PDF-")

    assert len(inbox.messages) == 1
    rcpt, message = inbox.messages[0]
    assert rcpt == RECIPIENTS
    subject = str(make_header(decode_header(message["Subject"])))
    assert subject == "Rapport hebdomadaire Acme : semaine 48 (du 23 au 29 novembre 2026)"
    assert message["From"] == "r@x.fr"
    body = message.get_body(("plain",)).get_content()
    assert "Voici le rapport de réputation de Acme pour la semaine 48" in body
    attachments = list(message.iter_attachments())
    assert [a.get_content_type() for a in attachments] == ["application/pdf"]
    assert attachments[0].get_filename() == "rapport-acme-2026-W48.pdf"
    assert attachments[0].get_content() == pdf.read_bytes()

    assert len(posted) == 1
    assert posted[0]["text"].endswith(pdf.resolve().as_uri())
    assert "semaine 48" in posted[0]["text"]


def test_smtp_url_delivery_and_clear_errors(project, smtp, tmp_path):
    """``LISTENING_SMTP_URL`` without Airflow; a dead server or no server is a clear error."""
    port, inbox = smtp
    add_recipients(project.config)
    config = load_config(project.config)
    pdf = tmp_path / "2026-W48.pdf"
    pdf.write_bytes(b"%PDF-1.7\n")
    report = Report("Acme", parse_week("2026-W48"), pdf, pdf.stat().st_size, "Semaine calme.")
    server = server_from_url(f"smtp://127.0.0.1:{port}?from=rapports@exemple.fr")
    done = deliver(config, report, server, say=lambda _: None)
    assert done["n_recipients"] == 2
    assert inbox.messages[0][1]["From"] == "rapports@exemple.fr"
    assert "En bref : Semaine calme." in inbox.messages[0][1].get_body(("plain",)).get_content()

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    with pytest.raises(MailError, match=f"127.0.0.1:{dead}.*check the host, port"):
        deliver(config, report, server_from_url(f"smtp://127.0.0.1:{dead}"), say=print)
    with pytest.raises(MailError, match="LISTENING_SMTP_URL"):
        deliver(config, report, None, say=print)


def test_smtp_urls():
    s = server_from_url("smtps://rapports%40exemple.fr:p%40ss@mail.exemple.fr?from=a@b.fr")
    assert (s.host, s.port, s.security, s.username, s.password, s.sender) == (
        "mail.exemple.fr",
        465,
        "ssl",
        "rapports@exemple.fr",
        "p@ss",
        "a@b.fr",
    )
    assert "p@ss" not in repr(s)
    assert server_from_url("smtp+starttls://h").port == 587
    assert server_from_url("smtp://h").sender == "listening@h"
    with pytest.raises(MailError, match="smtp://, smtp\\+starttls:// or smtps://"):
        server_from_url("http://h")
