-- 009: an alert the build no longer finds is withdrawn, not left standing.
-- Late comments and a re-score (a new sentiment adapter) change past days, so
-- an episode may move or vanish; the build marks what it no longer finds with
-- withdrawn_at (cleared if found again) and the alerts view shows the rest.
alter table raw.alerts add column withdrawn_at timestamptz;

create or replace view alerts as
select
    alert_id,
    rule,
    brand,
    subject,
    opened_at,
    closed_at,
    severity,
    summary,
    evidence,
    delivery_status,
    delivered_at,
    attempts,
    last_error,
from raw.alerts
where withdrawn_at is null;

comment on view alerts is
    'Alerts raised by the build, one row per episode (see listening.alerts). An '
    'episode later data no longer shows stays in raw.alerts with withdrawn_at '
    'set and is left out here.';
comment on column alerts.alert_id is
    'Stable id from rule, brand, subject and episode start.';
comment on column alerts.rule is
    'negative_spike, buzz_spike, reputation_drift, regular_turned_detractor, '
    'unanswered_negative_thread or task_failure (see listening.alerts).';
comment on column alerts.brand is 'Brand concerned.';
comment on column alerts.subject is
    'What the alert is about besides the brand: author_id, thread_url or the '
    'drift''s direction; NULL for a spike and for a day''s alerts rolled up '
    'into one.';
comment on column alerts.opened_at is 'Start of the episode (data time, UTC).';
comment on column alerts.closed_at is
    'End of the episode; NULL while it goes on.';
comment on column alerts.severity is 'info, warning or critical.';
comment on column alerts.summary is 'One French sentence for the analyst.';
comment on column alerts.evidence is
    'mention_id list backing the alert.';
comment on column alerts.delivery_status is
    'sent, failed (retried at the next build), pending, or stored (no webhook, '
    'or too old to notify).';
comment on column alerts.delivered_at is 'When the webhook accepted it (UTC).';
comment on column alerts.attempts is 'Webhook delivery attempts so far.';
comment on column alerts.last_error is 'Last delivery error, one line.';
