"""Unusual use of a right, judged against robust baselines (docs/research: CloudTrail Insights' idea of
a trailing baseline, with median and MAD so one past spike does not hide the next one).

- **Burst**: today's count above median + ``k`` · MAD of the trailing days' counts (days without use count
  as 0), and above ``floor`` and ``factor`` × the median.
- **Odd hour**: a use in an hour of the day when the user has not used this right, nor in the hour before
  or after, over a history of at least ``min_uses`` uses on ``min_days`` days.
- **First of its kind**: the user never used this right before and none of at least ``min_peers`` users
  alike (same role) used it in the window.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

BURST_K = 6.0
BURST_FLOOR = 20
BURST_FACTOR = 3.0


def burst_threshold(history: Sequence[int], *, k: float = BURST_K, floor: int = BURST_FLOOR) -> float:
    """The count above which a day is a burst, given the trailing days' counts."""
    values = np.asarray(history, dtype=float)
    if not values.size:
        return float(floor)
    median = float(np.median(values))
    mad = float(np.median(np.abs(values - median)))
    return max(median + k * mad, float(floor), BURST_FACTOR * median)


def is_burst(today: int, history: Sequence[int], **kwargs) -> bool:
    """Whether ``today``'s count is a burst against ``history``."""
    return today > burst_threshold(history, **kwargs)


def is_odd_hour(hour: int, hours_seen: Sequence[int], *, days_seen: int, min_uses: int = 20, min_days: int = 7) -> bool:
    """Whether a use at ``hour`` (0–23, UTC) is unusual given the uses per hour of the day so far."""
    counts = np.asarray(hours_seen, dtype=int)
    if counts.sum() < min_uses or days_seen < min_days:
        return False
    return counts[(hour - 1) % 24] + counts[hour % 24] + counts[(hour + 1) % 24] == 0


def is_first_of_kind(used_before: bool, peers_using: int, peers: int, *, min_peers: int = 3) -> bool:
    """Whether the use is the first of a right no user alike has used (enough peers to say so)."""
    return not used_before and peers >= min_peers and peers_using == 0
