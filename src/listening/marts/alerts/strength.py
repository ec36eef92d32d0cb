"""Volume and strength: the tests every inferred alert needs, and the severity they give.

An alert needs at least ``settings.alert_min_count`` mentions, threads or votes behind it and
a z-score of at least ``settings.alert_min_z``; twice both makes it ``critical``.
"""

from __future__ import annotations

import statistics

from listening.config import Config

RANK = {"info": 0, "warning": 1, "critical": 2}  # severities, the mildest first


def is_strong(n: float, z: float | None, config: Config) -> bool:
    """Volume and strength: what every inferred alert needs (settings alert_min_*)."""
    s = config.settings
    return z is not None and n >= s.alert_min_count and z >= s.alert_min_z


def severity(n: float, z: float, config: Config, base: str = "warning") -> str:
    """``critical`` with twice the volume and twice the strength an alert needs."""
    s = config.settings
    return "critical" if n >= 2 * s.alert_min_count and z >= 2 * s.alert_min_z else base


def robust_z(x: float, past: list[float], med: float | None = None) -> float | None:
    """(x - median) / (1.4826 MAD), or 1.2533 x the mean absolute deviation when the MAD is 0
    (Iglewicz & Hoaglin 1993), as ``buzz_z`` and ``negative_z`` in reputation_daily. ``med``:
    the median of ``past``, when the caller has it already."""
    if not past:
        return None
    if med is None:
        med = statistics.median(past)
    deviations = [abs(v - med) for v in past]
    mad = statistics.median(deviations)
    if mad > 0:
        return (x - med) / (1.4826 * mad)
    mean_ad = statistics.fmean(deviations)
    return (x - med) / (1.2533 * mean_ad) if mean_ad > 0 else None
