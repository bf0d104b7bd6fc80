"""The work-order lifecycle: every status, and every move between them, in one table;
and what each move announces to the other packages (``ANNOUNCED``).

An action names a move (``sign_for``, ``return``...). It is legal from the statuses
listed for it and always lands in one status. Anything else raises
``IllegalTransition`` with code ``illegal_transition``; the API answers 409.
"""

from __future__ import annotations

from dataclasses import dataclass
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
    REOPENED = "reopened"  # an unsatisfied callback: redone by the rules of redo
    MERGED = "merged"  # a duplicate folded into its parent order
    CANCELLED = "cancelled"
    TRANSFERRED = "transferred"  # 转办: passed to another platform (12345), closed here


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
    # A merged order closes with its parent (or on its own caller's good callback) and
    # reopens on its own caller's bad one (docs/callbacks.md, "Merged callers").
    "close": (
        frozenset({S.COMPLETED, S.CALLBACK, S.RESOLVED_ON_CALL, S.ESCALATED, S.MERGED}),
        S.CLOSED,
    ),
    "reopen": (
        frozenset({S.COMPLETED, S.CALLBACK, S.CLOSED, S.RESOLVED_ON_CALL, S.MERGED}),
        S.REOPENED,
    ),
    "merge": (
        frozenset({S.DRAFT, S.REGISTERED, S.DISPATCHING, S.DISPATCHED, S.RETURNED, S.ESCALATED}),
        S.MERGED,
    ),
    "cancel": (frozenset({S.DRAFT, S.REGISTERED, S.ESCALATED}), S.CANCELLED),
    # Not this hotline's business: passed to the platform that handles it (or, for an
    # order received from a platform, given back to it), before or instead of a unit.
    "transfer": (
        frozenset({S.DRAFT, S.REGISTERED, S.RETURNED, S.ESCALATED, S.REOPENED}),
        S.TRANSFERRED,
    ),
}

ORDER_REGISTERED = "order.registered"
ORDER_DRAFTED = "order.drafted"
ORDER_COMPLETED = "order.completed"
ORDER_REOPENED = "order.reopened"


@dataclass(frozen=True)
class Announcement:
    """The outbox row a move writes in its own transaction; subscribers act on it after
    commit. Its payload is the order's id, the move's event ``seq`` and ``facts``.
    ``per_round`` rows carry the order's ``redo_count`` and are keyed by it too (one per
    round of work, so a repeat of the same move in that round adds nothing)."""

    topic: str
    facts: tuple[str, ...] = ()
    per_round: bool = False


_COMPLETED = Announcement(ORDER_COMPLETED, ("dispatch_id", "late"), per_round=True)

# action -> what it announces; ``do_transition`` writes it. Moves not listed announce
# nothing (routing's own moves tell the units through ``dispatch.created``).
ANNOUNCED: dict[str, Announcement] = {
    # Routing takes it, as an order registered directly (BORN below).
    "confirm": Announcement(ORDER_REGISTERED),
    # Callbacks call the citizen back; the lead unit's dispatch (None on the call) is rated.
    "complete": _COMPLETED,
    "resolve_on_call": _COMPLETED,
    # Routing applies the redo rules (``redo_by_same_unit``): ``enterprise_id`` is the
    # lead unit that did the work, ``comment`` and ``level`` the citizen's words and rating.
    "reopen": Announcement(ORDER_REOPENED, ("enterprise_id", "comment", "level"), per_round=True),
}
# The status an order is born in -> what its birth announces. The one statement that
# inserts an order writes it (hotline.orders.queries.insert_new_order).
BORN: dict[Status, Announcement] = {
    S.REGISTERED: Announcement(ORDER_REGISTERED),
    S.DRAFT: Announcement(ORDER_DRAFTED),
}

# A reopened order goes back to the unit that did the work this many times; after that,
# or with no unit to go back to, the centre coordinates it.
REDOS_BY_THE_SAME_UNIT = 1


def redo_by_same_unit(redo_count: int, unit: int | None) -> bool:
    """Whether an order reopened for the ``redo_count``-th time goes back to ``unit``
    (routing acts on it; callbacks tell the citizen which it is, in the same request)."""
    return unit is not None and redo_count <= REDOS_BY_THE_SAME_UNIT


# Statuses in which no clock runs and no one has work to do.
FINAL: frozenset[Status] = frozenset({S.CLOSED, S.MERGED, S.CANCELLED, S.TRANSFERRED})
# Not final, but the resolution clock has stopped: the work was done.
DONE: frozenset[Status] = frozenset({S.RESOLVED_ON_CALL, S.COMPLETED, S.CALLBACK})
# Someone still has work to do on it: the supervisors' open, due-soon and overdue orders.
OPEN: frozenset[Status] = frozenset(Status) - FINAL - DONE - {S.DRAFT}


def next_status(current: str, action: str) -> Status:
    """The status ``action`` leads to from ``current``, or ``IllegalTransition``."""
    if action not in TRANSITIONS:
        raise IllegalTransition("unknown action {action}", code="unknown_action", action=action)
    sources, target = TRANSITIONS[action]
    if current not in sources:
        allowed = ", ".join(sorted(s.value for s in sources))
        raise IllegalTransition(
            "cannot {action} an order that is {current} (only from: {allowed})",
            action=action,
            current=current,
            allowed=allowed,
        )
    return target


def actions_from(current: str) -> list[str]:
    """The actions legal from ``current``, for consoles that show only what can be done."""
    return [action for action, (sources, _) in TRANSITIONS.items() if current in sources]
