"""Synthetic demo communities: realistic groups, members and chat as events.

Usage::

    plan = generate(groups=20, members=3000, days=90, seed=1)
    plan.total            # exact number of events
    for event in plan.events():
        ...

See docs/demo.md for what the community looks like.
"""

from __future__ import annotations

from qunyun.demo.generator import MESSAGES_PER_MEMBER_DAY, DemoPlan, estimate_events, generate
from qunyun.demo.stream import SOURCE
from qunyun.demo.timing import DEFAULT_END

__all__ = [
    "DEFAULT_END",
    "MESSAGES_PER_MEMBER_DAY",
    "SOURCE",
    "DemoPlan",
    "estimate_events",
    "generate",
]
