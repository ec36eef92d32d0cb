"""Alerts: rules evaluated on the marts after each build, stored once per episode, delivered.

- ``rules``: the five rules below; each one's SQL is ``sql/alerts/<rule>.sql`` (and
  ``<rule>_*.sql`` for its calendar or evidence); ``rules.evaluate`` runs them all.
- ``strength``: the volume and strength tests every inferred alert needs, and its severity.
- ``episodes``: the ``Alert`` record; days grouped into episodes, the drift CUSUM, a day's
  alerts rolled up into one; episodes opened, closed and withdrawn in ``raw.alerts``.
- ``delivery``: posting ``pending`` and ``failed`` alerts to the webhook.
- ``wording``: the French of the summaries (dates, elisions, plurals).

Every rule that infers a change needs volume and strength: at least ``alert_min_count``
mentions, threads or votes behind it and a z-score of at least ``alert_min_z`` (settings; 3.5
is Iglewicz & Hoaglin's cut-off for outliers). Twice both makes a spike ``critical``. A busy
day is not news: a brand named 3 times instead of once has a huge z but no volume, and a big
brand's ordinary wobble has volume but no z. Where comments cluster, volume is counted in
conversations (threads): forty comments in one heated thread are one event, not forty.

- ``negative_spike``: a day whose negative mentions have a robust z-score of ``alert_min_z`` or
  more against the previous 90 days (``reputation_daily.negative_z``), spread over
  ``alert_min_count`` threads or more.
- ``buzz_spike``: a week (the 7 days up to a day) whose threads naming the brand have a robust
  z-score of ``alert_min_z`` or more against the 7-day counts of the 90 days before it, at least
  ``alert_min_count`` above their median. Weeks of conversations, not days of mentions: one
  long comment thread makes a busy day, a campaign or a controversy makes a busy week.
- ``reputation_drift``: a one-sided CUSUM (Page 1954) on the daily reputation index, run
  both ways. Down: S_t = max(0, S_{t-1} + (index_{t-1} - index_t) - SLACK), i.e. the largest
  fall from an earlier day minus SLACK points per day elapsed. It alarms when S_t >= THRESHOLD,
  the change since the fall began is ``alert_min_z`` standard errors or more (the errors of
  both days, from the index's bounds, added in quadrature: conservative, the two days share
  votes) and at least ``alert_min_count`` votes were cast since. The episode starts on the day
  the index left its level: the last day, up to the alarm, inside the bounds the index had at
  its extreme since S was last 0 (S's last 0 alone dates a slow fall from months of wandering
  before it); it ends when S is back to 0. A brand's first
  ``reputation_half_life_days`` days are skipped: its index then walks from neutral to its level.
- ``regular_turned_detractor``: a regular (active in >= 3 months) whose status is ``turned``
  towards ``detractor`` in the authors mart, who used to praise the brand and now criticises
  it, with ``alert_min_count`` labelled mentions of it or more and a change of mean label of
  ``alert_min_z`` standard errors or more (each side's variance floored at 0.25, so that a few
  unanimous labels do not look certain); at most one alert per person and brand.
- ``unanswered_negative_thread``: a thread whose final tone is negative, with no answer from
  the brand since its tone turned, for ``settings.unanswered_hours`` (and less than
  ``settings.alert_lookback_days`` ago: older threads are history), where
  ``alert_unanswered_min_voices`` people or more (distinct voices) have a negative mention of
  the brand since its last answer (or ever, when it never answered), and the latest labelled
  mention of the brand there is not positive; one alert per thread and brand. Volume here
  too: one voice is one opinion (often a mixed one, « pas mal, mais trop cher »); several
  people complaining unanswered is what a care team must see. A fact to act on (answer).

A day's many small alerts roll up into one: the people who turned, or the threads that went
negative, on the same local day for the same brand make one alert listing them.

Episodes of the same rule, brand and subject less than ``settings.alert_cooldown_days`` apart
are one episode (one alert). ``alert_id`` hashes rule, brand, subject and episode start, so a
rebuild on the same data finds the same alerts and updates them in place. Episodes whose last
activity is older than ``settings.alert_lookback_days`` are stored, not sent: a first build on
three years of history must not post three years of alerts.
"""
