"""The work-order lifecycle: every status, and every move between them, in one table.

An action names a move (``sign_for``, ``return``...). It is legal from the statuses
listed for it and always lands in one status. Anything else raises
``IllegalTransition`` with code ``illegal_transition``; the API answers 409.
"""

from __future__ import annotations

from enum import StrEnum

from hotline.errors import IllegalTransition


class Status(StrEnum):
    DRAFT = "draft"  # from SMS, a recording or a form; an agent confirms it
    REGISTERED = "registered"  # 受理
    RESOLVED_ON_CALL = "resolved_on_call"  # 直接办结: answered during the call
    DISPATCHING = "dispatching"  # routing is choosing a unit
    DISPATCHED = "dispatched"  # 派单: waiting for the unit to sign for it
    RETURNED = "returned"  # 退单: the unit sent it back; the centre reviews
    ESCALATED = "escalated"  # 协调督办: no unit takes it; the centre coordinates
    IN_PROGRESS = "in_progress"  # 签收/办理: a unit signed for it and works on it
    COMPLETED = "completed"  # 办结: the unit replied and finished
    CALLBACK = "callback"  # 回访: the citizen is being called back
    CLOSED = "closed"  # 归档
    REOPENED = "reopened"  # unsatisfied callback or a supervisor's decision
    MERGED = "merged"  # a duplicate folded into its parent order
    CANCELLED = "cancelled"


S = Status

# action -> (statuses it may start from, status it lands in)
TRANSITIONS: dict[str, tuple[frozenset[Status], Status]] = {
    "confirm": (frozenset({S.DRAFT}), S.REGISTERED),
    "resolve_on_call": (frozenset({S.REGISTERED}), S.RESOLVED_ON_CALL),
    "start_dispatch": (frozenset({S.REGISTERED, S.RETURNED, S.REOPENED}), S.DISPATCHING),
    "dispatch": (
        frozenset({S.DISPATCHING, S.RETURNED, S.ESCALATED, S.REOPENED}),
        S.DISPATCHED,
    ),
    "sign_for": (frozenset({S.DISPATCHED}), S.IN_PROGRESS),
    "return": (frozenset({S.DISPATCHED}), S.RETURNED),
    "escalate": (
        frozenset(
            {S.REGISTERED, S.DISPATCHING, S.DISPATCHED, S.RETURNED, S.IN_PROGRESS, S.REOPENED}
        ),
        S.ESCALATED,
    ),
    "complete": (frozenset({S.IN_PROGRESS}), S.COMPLETED),
    "start_callback": (frozenset({S.COMPLETED, S.RESOLVED_ON_CALL}), S.CALLBACK),
    "close": (
        frozenset({S.COMPLETED, S.CALLBACK, S.RESOLVED_ON_CALL, S.ESCALATED}),
        S.CLOSED,
    ),
    "reopen": (frozenset({S.COMPLETED, S.CALLBACK, S.CLOSED, S.RESOLVED_ON_CALL}), S.REOPENED),
    "merge": (
        frozenset({S.DRAFT, S.REGISTERED, S.DISPATCHING, S.DISPATCHED, S.RETURNED, S.ESCALATED}),
        S.MERGED,
    ),
    "cancel": (frozenset({S.DRAFT, S.REGISTERED, S.ESCALATED}), S.CANCELLED),
}

# Statuses in which no clock runs and no one has work to do.
FINAL: frozenset[Status] = frozenset({S.CLOSED, S.MERGED, S.CANCELLED})
# Not final, but the resolution clock has stopped: the work was done.
DONE: frozenset[Status] = frozenset({S.RESOLVED_ON_CALL, S.COMPLETED, S.CALLBACK})
# Someone still has work to do on it: the supervisors' open, due-soon and overdue orders.
OPEN: frozenset[Status] = frozenset(Status) - FINAL - DONE - {S.DRAFT}


def next_status(current: str, action: str) -> Status:
    """The status ``action`` leads to from ``current``, or ``IllegalTransition``."""
    if action not in TRANSITIONS:
        raise IllegalTransition(f"unknown action {action!r}", code="unknown_action")
    sources, target = TRANSITIONS[action]
    if current not in sources:
        allowed = ", ".join(sorted(s.value for s in sources))
        raise IllegalTransition(
            f"cannot {action} an order that is {current} (only from: {allowed})"
        )
    return target


def actions_from(current: str) -> list[str]:
    """The actions legal from ``current``, for consoles that show only what can be done."""
    return [action for action, (sources, _) in TRANSITIONS.items() if current in sources]
