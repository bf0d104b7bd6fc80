"""What an answer does (the closed loop, 闭环), a supervisor's ruling, and appeals.

Solved and rated 3–5 (基本满意 or better): the order is closed. Not solved, or rated
1–2 (不满意, 非常不满意): it is reopened with its redo count + 1 and a new resolution
limit. The reopen announces itself (``order.reopened``) and routing redoes it after
commit: the same lead unit once, flagged 回访不满意 with the citizen's words; when it was
already redone, the coordination queue (hotline.orders.lifecycle.redo_by_same_unit).
Everything runs inside the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

import asyncpg
from pydantic import BaseModel, ConfigDict, Field

from callbacks import queries
from hotline import i18n
from hotline.deadlines.limits import of_order
from hotline.errors import Conflict, Forbidden, InvalidInput, NotFound
from hotline.orders import queries as order_queries
from hotline.orders.lifecycle import Status, redo_by_same_unit
from hotline.orders.service import (
    access_order_by_id,
    clock_dues,
    do_transition,
    reaches_unit,
    record_event,
)
from hotline.users.models import Actor
from hotline.workcal import WorkingCalendar
from routing import visits

LEVELS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
# Completed by the lead unit or answered on the call, no callback under way yet.
JUST_DONE = frozenset({Status.COMPLETED, Status.RESOLVED_ON_CALL})
# An order standing here is waiting for its callback; good answers close it, bad reopen it.
AWAITING = JUST_DONE | {Status.CALLBACK}

Outcome = Literal["closed", "reopened", "escalated", "recorded"]


@dataclass(frozen=True)
class Answer:
    """The survey's answers; None where the question was answered before (voice, SMS)."""

    solved: bool | None
    rating: int | None
    comment: str = ""


def is_good(solved: bool | None, rating: int | None) -> bool:
    return bool(solved) and rating is not None and rating >= 3


async def do_finish_survey(
    conn: asyncpg.Connection,
    survey_id: int,
    answer: Answer,
    *,
    actor: Actor | None,
    calendar: WorkingCalendar,
    now: dt.datetime,
) -> Outcome:
    """The last answer of a survey: record it, settle its attempts, act on the order."""
    survey = await queries.get_survey(conn, survey_id, for_update=True)
    if survey is None:
        raise NotFound("callback survey {survey_id} not found", survey_id=survey_id)
    if survey["state"] != "open":
        raise Conflict(
            "the survey is already {state}", code="survey_closed", state=i18n.Term(survey["state"])
        )
    solved = survey["solved"] if answer.solved is None else answer.solved
    rating = answer.rating if answer.rating is not None else survey["rating"]
    outcome: Outcome = "recorded"
    if survey["order_id"] is not None:
        outcome = await _act_on_order(
            conn, survey, solved, rating, answer.comment, actor, calendar, now
        )
    await queries.finish_survey(
        conn,
        survey_id,
        state="answered",
        outcome=outcome,
        now=now,
        solved=solved,
        rating=rating,
        comment=answer.comment,
        answered_by=actor.user_id if actor else None,
    )
    await queries.settle_survey_attempts(conn, survey_id, now)
    return outcome


async def _act_on_order(
    conn: asyncpg.Connection,
    survey: asyncpg.Record,
    solved: bool | None,
    rating: int | None,
    words: str,
    actor: Actor | None,
    calendar: WorkingCalendar,
    now: dt.datetime,
) -> Outcome:
    order = await order_queries.get_order(conn, survey["order_id"], for_update=True)
    assert order is not None
    good = is_good(solved, rating)
    facts = {
        "survey_id": survey["id"],
        "campaign": survey["campaign_kind"],
        "channel": survey["channel"],
        "solved": solved,
        "rating": rating,
        "level": LEVELS.get(rating or 0, ""),
        "comment": words,
    }
    await record_event(conn, order["id"], "callback.answered", actor, now, data=facts)
    # A caller merged into the order that was worked on (its parent).
    merged_caller = order["parent_id"] is not None
    # The unit's score counts post-completion ratings only; spot checks sample. The
    # work is rated by its order's own caller; a merged caller's answer counts only
    # while the dispatch has no answer (the first caller unreachable, or without phone).
    if survey["campaign_kind"] == "post_completion" and survey["dispatch_id"] is not None:
        await queries.rate_dispatch(
            conn,
            survey["dispatch_id"],
            solved=solved,
            rating=rating,
            outcome="good" if good else "bad",
            now=now,
            keep_answer=merged_caller,
        )
    if good:
        # A merged caller satisfied: nothing is left to do for them.
        if order["status"] not in AWAITING | {Status.MERGED}:
            return "recorded"
        await do_transition(
            conn, order, "close", actor, now, changes={"closed_at": now}, data=facts
        )
        return "closed"
    if order["status"] not in AWAITING | {Status.CLOSED, Status.MERGED}:
        return "recorded"  # already back at work (an earlier answer reopened it)
    due = clock_dues(of_order(order), order["priority"], calendar, now)["resolution"]
    unit = survey["enterprise_id"] or order["lead_enterprise_id"]
    changes: dict[str, object] = {
        "redo_count": order["redo_count"] + 1,
        "closed_at": None,
        "resolution_due_at": due,
    }
    data = {**facts, "resolution_due_at": due.isoformat()}
    if merged_caller:
        # Their fault is not fixed though the parent's work is done: their order leaves
        # the parent and is redone on its own, by the unit that did the parent's work.
        parent = await order_queries.get_order(conn, order["parent_id"])
        assert parent is not None  # an order's parent stays
        changes["parent_id"] = None
        data["split_from"] = parent["number"]
    await do_transition(
        conn,
        order,
        "reopen",
        actor,
        now,
        changes=changes,
        data=data,
        facts={"enterprise_id": unit, "comment": words, "level": facts["level"]},
    )
    return "reopened" if redo_by_same_unit(order["redo_count"] + 1, unit) else "escalated"


async def do_mark_unreachable(
    conn: asyncpg.Connection, survey_id: int, *, reason: i18n.Text, now: dt.datetime
) -> None:
    """Every attempt failed: the survey is unreachable and counted as such. The order is
    closed with that note (a supervisor may reopen it); the unit's dispatch says so. A
    round of work that made an on-site visit stays open for a supervisor's ruling."""
    survey = await queries.get_survey(conn, survey_id, for_update=True)
    if survey is None or survey["state"] != "open":
        return
    await queries.finish_survey(conn, survey_id, state="unreachable", outcome=None, now=now)
    await queries.settle_survey_attempts(conn, survey_id, now)
    if survey["order_id"] is None:
        return
    order = await order_queries.get_order(conn, survey["order_id"], for_update=True)
    assert order is not None
    data = {"survey_id": survey_id, "reason": reason, "campaign": survey["campaign_kind"]}
    await record_event(conn, order["id"], "callback.unreachable", None, now, data=data)
    if survey["campaign_kind"] != "post_completion":
        return
    if survey["dispatch_id"] is not None:
        # One of the order's callers (merged ones too) may have answered already.
        await queries.rate_dispatch(
            conn,
            survey["dispatch_id"],
            solved=None,
            rating=None,
            outcome="unreachable",
            now=now,
            keep_answer=True,
        )
    if order["status"] not in AWAITING:
        return
    if await visits.needs_good_callback(conn, order):
        # After an on-site visit only the citizen's word or a supervisor's ruling closes it.
        await record_event(conn, order["id"], "visit.awaiting_ruling", None, now, data=data)
        return
    await do_transition(conn, order, "close", None, now, changes={"closed_at": now}, data=data)


# ------------------------------------------------------------ the centre's word


class RulingInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    ruling: str = Field(min_length=1, max_length=2000)


async def do_close_with_ruling(
    conn: asyncpg.Connection, actor: Actor, order_id: int, body: RulingInput, now: dt.datetime
) -> asyncpg.Record:
    """A supervisor closes the order with a recorded ruling (for example an unreasonable
    demand); open surveys of the order are cancelled, an on-site visit still owed is
    settled by the ruling."""
    order = await access_order_by_id(conn, actor, order_id, for_update=True)
    await visits.settle_by_ruling(conn, order_id, actor, body.ruling, now)
    for survey in await queries.order_surveys(conn, order_id):
        if survey["state"] == "open":
            await queries.finish_survey(
                conn, survey["id"], state="cancelled", outcome=None, now=now
            )
            await queries.settle_survey_attempts(conn, survey["id"], now)
    return await do_transition(
        conn,
        order,
        "close",
        actor,
        now,
        changes={"closed_at": now},
        data={"ruling": body.ruling},
    )


class AppealInput(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    reason: str = Field(min_length=1, max_length=2000)


class AppealDecision(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    decision: Literal["approve", "reject"]
    note: str = Field(default="", max_length=2000)


async def do_appeal(
    conn: asyncpg.Connection, actor: Actor, dispatch_id: int, body: AppealInput, now: dt.datetime
) -> asyncpg.Record:
    """申诉: the unit asks the centre to take a bad rating out of its score."""
    rated = await queries.dispatch_rating(conn, dispatch_id, for_update=True)
    if rated is None or not await reaches_unit(conn, actor, rated["enterprise_id"]):
        raise NotFound("dispatch {dispatch_id} not found", dispatch_id=dispatch_id)
    if rated["role"] != "lead":
        raise Forbidden("only the lead unit's rating can be appealed", code="not_lead")
    if rated["callback_outcome"] != "bad" or rated["score_excluded"]:
        raise InvalidInput(
            "only a bad rating that still counts can be appealed",
            code="not_appealable",
            fields={"dispatch_id": "no bad rating to appeal"},
        )
    appeal = await queries.insert_appeal(
        conn,
        {
            "dispatch_id": dispatch_id,
            "enterprise_id": rated["enterprise_id"],
            "reason": body.reason,
            "appealed_by": actor.label(),
            "now": now,
        },
    )
    if appeal is None:
        raise Conflict("an appeal of this rating is already waiting", code="appeal_pending")
    await record_event(
        conn,
        rated["order_id"],
        "rating.appealed",
        actor,
        now,
        data={"appeal_id": appeal["id"], "dispatch_id": dispatch_id, "reason": body.reason},
    )
    return appeal


async def do_decide_appeal(
    conn: asyncpg.Connection, actor: Actor, appeal_id: int, body: AppealDecision, now: dt.datetime
) -> asyncpg.Record:
    """Approved, the rating no longer counts in the unit's figures; decided once."""
    missing = NotFound("appeal {appeal_id} not found", appeal_id=appeal_id)
    appeal = await queries.get_appeal(conn, appeal_id, for_update=True)
    if appeal is None:
        raise missing
    rated = await queries.dispatch_rating(conn, appeal["dispatch_id"])
    assert rated is not None  # an appeal's dispatch stays
    await access_order_by_id(conn, actor, rated["order_id"], hidden_as=missing)
    if appeal["state"] != "pending":
        raise Conflict(
            "this appeal was already {state}",
            code="already_decided",
            state=i18n.Term(appeal["state"]),
        )
    state = "approved" if body.decision == "approve" else "rejected"
    decided = await queries.decide_appeal(
        conn, appeal_id, state=state, user_id=actor.user_id, note=body.note, now=now
    )
    if state == "approved":
        await queries.exclude_from_score(conn, appeal["dispatch_id"])
    await record_event(
        conn,
        rated["order_id"],
        f"rating.appeal_{state}",
        actor,
        now,
        data={"appeal_id": appeal_id, "note": body.note},
    )
    return decided
