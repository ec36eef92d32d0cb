"""listening_report: the weekly French report of each brand, written, e-mailed and announced."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import CronTriggerTimetable, PokeReturnValue, dag, task

from listening_assets import REPUTATION
from listening_runtime import DEFAULT_ARGS, QUEUE_STORE, TAGS, failure_callback, run_task

SMTP_CONN_ID = "listening_smtp"

DOC = """
# listening_report

Every Monday at 07:00 Europe/Paris, after the 06:00 build of `listening_reputation` (asset
`listening_reputation`), for the week that just ended (Monday to Sunday, local days):

1. **reputation_ready** waits (reschedule mode, up to 6 hours) until the published snapshot's
   `reputation_daily` covers that Sunday, so the report never shows a half-built week.
2. **render** writes `reports/<brand>/<week>.pdf` beside the store for every brand of
   `listening.toml`, from the read-only snapshot (no store lock: it runs beside the writers).
3. **deliver** e-mails each PDF to the brand's `report_recipients` through the Airflow
   connection `listening_smtp` (type smtp or generic: host, port, login, password; extra
   `{"from": "rapports@exemple.fr", "security": "starttls"}`), else `LISTENING_SMTP_URL`,
   and posts a link to `LISTENING_WEBHOOK_URL` (`settings.report_base_url` + brand/week.pdf,
   else the file's path).

A past week's reports: `airflow dags test listening_report 2026-11-02T06:00:00+00:00`, or
`listening report --week 2026-W44` from the CLI.

## When it fails
Retried twice with exponential backoff; then recorded as an alert (`failures/` beside the
store) and posted to `LISTENING_WEBHOOK_URL`.

- **reputation_ready** times out: `listening_reputation` did not build that week (see its
  runs); once built, clear the task.
- **render**: no snapshot yet (run the pipeline), a `ConfigError` (the log names the key), or a
  full disk. Reports are written whole (temporary file, then rename): a failure leaves none.
- **deliver**: `MailError` names the SMTP server and what to check (host, port, security,
  login, or a refused address in `report_recipients`). A retry sends every brand's e-mail again.
"""

# 07:00 in Paris on Mondays, whatever the season; the run's logical date is that Monday, so a
# backfilled date reports the week before it.
WEEKLY = CronTriggerTimetable("0 7 * * 1", timezone="Europe/Paris")


@dag(
    dag_id="listening_report",
    schedule=WEEKLY,
    start_date=datetime(2025, 1, 1),
    catchup=False,  # past weeks are reported on purpose, with `airflow dags test` or the CLI
    max_active_runs=1,
    tags=TAGS,
    default_args=DEFAULT_ARGS,
    doc_md=DOC,
    on_failure_callback=failure_callback,
)
def listening_report():
    # Every task reads the snapshot and writes reports/ beside the store: the store's host.
    @task.sensor(
        queue=QUEUE_STORE,
        inlets=[REPUTATION],
        poke_interval=timedelta(minutes=10).total_seconds(),
        timeout=timedelta(hours=6).total_seconds(),
        mode="reschedule",
    )
    def reputation_ready() -> PokeReturnValue:
        """Done when the snapshot's reputation covers the reported week; XCom: the week."""
        return PokeReturnValue(**run_task("reputation_ready"))

    @task(queue=QUEUE_STORE)
    def render(week: str) -> list[dict]:
        """Write every brand's PDF for the week; XCom: brand, week, path and reading."""
        return run_task("render", week=week)

    @task(queue=QUEUE_STORE)
    def deliver(week: str, written: list[dict]) -> list[dict]:
        """E-mail each report to its brand's recipients; post its link to the webhook."""
        return run_task("deliver", week=week, written=written, smtp_server=smtp_server)

    week = reputation_ready()
    deliver(week, render(week))


def smtp_server():
    """The Airflow connection ``listening_smtp`` as an SMTP server, or None when undefined."""
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    from listening.report.mail import DEFAULT_PORT, SmtpServer

    try:
        conn = Connection.get(SMTP_CONN_ID)
    except AirflowNotFoundException:
        return None
    extra = conn.extra_dejson or {}
    security = extra.get("security", "ssl" if extra.get("ssl") else "none")
    return SmtpServer(
        host=conn.host,
        port=conn.port or DEFAULT_PORT.get(security, 25),
        sender=extra.get("from") or extra.get("from_email") or f"listening@{conn.host}",
        username=conn.login or None,
        password=conn.password or None,
        security=security,
    )


listening_report()
