"""Alert delivery: post the ``pending`` and ``failed`` alerts of ``raw.alerts`` to the webhook.

Runs after the build's commit, so a slow or failing receiver never holds back the build. The
URL is ``LISTENING_WEBHOOK_URL`` (a secret: never from files) unless the caller gives one; the
POST itself (network guard, no redirects, tries) is ``listening.notify.post_json``.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from listening.config import Config

ENV_WEBHOOK = "LISTENING_WEBHOOK_URL"


def message(summary: str, severity: str, brand: str) -> dict:
    """The webhook's JSON body: the summary behind an icon of its severity."""
    icon = {"critical": "🔴", "warning": "🟠"}.get(severity, "🔵")
    return {"text": f"{icon} {summary}"}


def deliver_pending(
    con: duckdb.DuckDBPyConnection, config: Config, now: datetime, url: str, **post_options
) -> tuple[int, int]:
    """Send ``pending`` and ``failed`` alerts, oldest first; return (sent, failed).

    Each alert's outcome is written at once, so a crash midway loses nothing. The first
    failure stops the round: the remaining alerts keep their status for the next build.
    """
    from listening.notify import post_json

    rows = con.execute(
        "select alert_id, summary, severity, brand from raw.alerts "
        "where delivery_status in ('pending', 'failed') and withdrawn_at is null "
        "order by opened_at, alert_id"
    ).fetchall()
    sent = failed = 0
    for alert_id, summary, severity, brand in rows:
        result = post_json(
            url,
            message(summary, severity, brand),
            allow_private_networks=config.settings.allow_private_networks,
            **post_options,
        )
        if result.ok:
            sent += 1
            con.execute(
                "update raw.alerts set delivery_status = 'sent', delivered_at = ?, "
                "attempts = attempts + ?, last_error = null, updated_at = ? where alert_id = ?",
                [now, result.attempts, now, alert_id],
            )
        else:
            failed += 1
            con.execute(
                "update raw.alerts set delivery_status = 'failed', attempts = attempts + ?, "
                "last_error = ?, updated_at = ? where alert_id = ?",
                [result.attempts, result.error, now, alert_id],
            )
            # the receiver is down or refuses us: the others wait for the next build rather
            # than hold the store's writer lock through more timeouts
            break
    return sent, failed
