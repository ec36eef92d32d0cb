-- 007: the alert rules of issue 11 (buzz_spike; a day's many small alerts
-- rolled up into one, with no single subject). Comments only: the table is
-- unchanged.
comment on column alerts.rule is
    'negative_spike, buzz_spike, reputation_drift, regular_turned_detractor, '
    'unanswered_negative_thread or task_failure (see listening.alerts).';
comment on column alerts.subject is
    'What the alert is about besides the brand: author_id, thread_url or the '
    'drift''s direction; NULL for a spike and for a day''s alerts rolled up '
    'into one.';
