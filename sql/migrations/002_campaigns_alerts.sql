-- 002_campaigns_alerts: marketing campaigns (entered by analysts) and the
-- alerts the build raises. Written by `listening campaigns` and the build.

create table raw.campaigns (
    campaign_id varchar primary key,
    name varchar not null,
    brand varchar not null,
    channel varchar not null,
    start_date date not null,
    end_date date not null,
    created_at timestamptz not null,
    check (end_date >= start_date)
);

-- One row per alert episode; alert_id is stable (rule, brand, subject, episode
-- start), so a rebuild on the same data updates rows instead of adding some.
create table raw.alerts (
    alert_id varchar primary key,
    rule varchar not null,
    brand varchar not null,
    subject varchar,
    opened_at timestamptz not null,
    closed_at timestamptz,
    severity varchar not null,
    summary varchar not null,
    evidence varchar[] not null default [],
    delivery_status varchar not null,
    delivered_at timestamptz,
    attempts integer not null default 0,
    last_error varchar,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    check (severity in ('info', 'warning', 'critical')),
    check (delivery_status in ('pending', 'sent', 'failed', 'stored'))
);

create or replace view campaigns as
select
    campaign_id,
    name,
    brand,
    channel,
    start_date,
    end_date,
    created_at,
from raw.campaigns;

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
from raw.alerts;

comment on view campaigns is
    'Marketing campaigns entered with `listening campaigns add|import`.';
comment on column campaigns.campaign_id is
    'Stable id: hash of brand, name, start.';
comment on column campaigns.name is 'Campaign name.';
comment on column campaigns.brand is
    'Brand the campaign promotes (config name).';
comment on column campaigns.channel is
    'Medium: tv, radio, social, print, web…';
comment on column campaigns.start_date is 'First day on air (local date).';
comment on column campaigns.end_date is
    'Last day on air (local date, inclusive).';
comment on column campaigns.created_at is 'When it was entered (UTC).';

comment on view alerts is
    'Alerts raised by the build, one row per episode (see listening.alerts).';
comment on column alerts.alert_id is
    'Stable id from rule, brand, subject and episode start.';
comment on column alerts.rule is
    'negative_spike, reputation_drift, regular_turned_detractor or '
    'unanswered_negative_thread.';
comment on column alerts.brand is 'Brand concerned.';
comment on column alerts.subject is
    'What the alert is about besides the brand: author_id or thread_url.';
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
