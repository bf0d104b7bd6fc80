"""Callers who ask for no more notices by SMS (退订), and back (订阅).

A reply of one of the words below, alone (spaces and punctuation aside, any case), to
a hotline's number records the number in ``sms_opt_outs`` and answers what was done
and how to undo it; nothing else of the message is taken (no draft, no survey answer).
Mainland carriers' own words are among them: TD (退订), and R (拒收), which
commercial texts must offer. The status notices (``integrations.notifications``) and
the "fault fixed" texts (``callbacks``) ask ``may_text`` first. What a caller asked
for (a progress lookup's answer) and the callback survey the hotline owes are not
notices; they still go.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

import asyncpg

from integrations.telephony import queries

STOP_WORDS = frozenset({"TD", "T", "R", "退订", "退", "拒收", "STOP", "UNSUBSCRIBE"})
START_WORDS = frozenset({"订阅", "恢复", "START"})
OPTED_OUT = "您已退订本热线的短信通知，今后不再发送工单进度短信。如需恢复，请回复“订阅”。"
OPTED_IN = "您已恢复本热线的短信通知。如需退订，请回复“TD”。"
# What a reply may carry around its word: spaces, punctuation (full width too).
_AROUND = re.compile(r"[\s\W_]+")


def parse(body: str) -> bool | None:
    """True for a reply that opts out, False for one that opts back in, None for any
    other message."""
    word = _AROUND.sub("", body).upper()
    if word in STOP_WORDS:
        return True
    if word in START_WORDS:
        return False
    return None


async def do_answer(
    conn: asyncpg.Connection, phone: str, stop: bool, *, message_sid: str, now: dt.datetime
) -> str:
    """Record what ``phone`` asked (idempotent: a delivery again changes nothing) and
    the reply that says so."""
    if stop:
        await queries.insert_opt_out(conn, phone, now=now, message_sid=message_sid)
        return OPTED_OUT
    await queries.delete_opt_out(conn, phone)
    return OPTED_IN


async def stopped(conn: asyncpg.Connection, phones: Iterable[str | None]) -> set[str]:
    """Those of ``phones`` no notice may go to (they opted out), in one lookup: an
    outage's merged callers are many."""
    known = [p for p in phones if p is not None]
    return await queries.opted_out(conn, known) if known else set()


async def may_text(conn: asyncpg.Connection, phone: str | None) -> bool:
    """Whether a notice may go to ``phone`` (it has not opted out)."""
    return not await stopped(conn, [phone])
