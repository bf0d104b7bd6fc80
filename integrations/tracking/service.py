"""What the public may know of an order, in one place: its public status (the page, the
SMS answer and Open311 all take it from ``public_status``), its public timeline and time
limits (``build``), and who may see them: the order's number with the phone that
reported it, or with a one-time code sent to that phone by SMS.

Enumeration: a wrong number and a wrong phone get the same answer after the same work
(one indexed read of the number, a constant-time comparison), and every attempt counts
against the client address and against the number named (``limit``). A verified lookup
gets a grant, a random token good for ``GRANT_TTL``, which the page's follow-up form
carries instead of the phone or the (spent) code.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import unicodedata
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import asyncpg

from hotline.errors import InvalidInput
from hotline.orders.lifecycle import DONE, FINAL, Status
from hotline.orders.service import record_event
from hotline.outbox import queries as outbox
from hotline.phones import normalize_phone
from hotline.reference.cache import reference
from hotline.settings import Settings
from integrations import ratelimit
from integrations.guide.service import Language
from integrations.telephony.outbound import queue_sms
from integrations.tracking import queries

SCOPE = "track"  # the rate limits' channel name
CODE_DIGITS = 6
CODE_TTL = dt.timedelta(minutes=10)
CODE_ATTEMPTS = 5  # wrong entries before a code is dead
GRANT_TTL = dt.timedelta(minutes=30)
FOLLOW_UP_MAX = 2000
SMS_ORDERS = 3  # open orders one SMS answer lists
SMS_REPLY_CHARS = 40  # of a unit's reply quoted in an SMS
CLOSED_STATUSES = sorted(s.value for s in FINAL | DONE)

S = Status
STATUS_WORDS: dict[str, tuple[str, str]] = {
    S.DRAFT: ("已收到，等待话务员确认", "received, waiting for an agent to confirm it"),
    S.REGISTERED: ("已受理", "registered"),
    S.RESOLVED_ON_CALL: ("已当场答复办结", "resolved during the call"),
    S.DISPATCHING: ("正在确定承办单位", "choosing the responsible unit"),
    S.DISPATCHED: ("已派至承办单位", "dispatched to the responsible unit"),
    S.RETURNED: ("承办单位退回，热线中心复核中", "returned by the unit, under review"),
    S.ESCALATED: ("热线中心协调督办中", "the hotline centre is coordinating it"),
    S.IN_PROGRESS: ("承办单位正在办理", "the responsible unit is working on it"),
    S.COMPLETED: ("已办结", "completed"),
    S.CALLBACK: ("已办结，回访中", "completed; we are calling back"),
    S.CLOSED: ("已归档", "closed"),
    S.REOPENED: ("重新办理中", "reopened"),
    S.MERGED: ("已并入同一问题的工单", "merged into a report of the same problem"),
    S.CANCELLED: ("已撤销", "cancelled"),
    S.TRANSFERRED: (
        "已转交 12345 等对口平台办理",
        "passed to the 12345 platform (or the body responsible)",
    ),
}

FollowUpKind = Literal["more_info", "persists"]


def _pick(pair: tuple[str, str], language: Language) -> str:
    return pair[0] if language == "zh" else pair[1]


# ------------------------------------------------------------ public status


@dataclass(frozen=True)
class PublicStatus:
    """An order's status as anyone may read it (Open311 shows it by number alone)."""

    number: str
    status: str
    state: Literal["open", "closed"]
    words: tuple[str, str]
    agency: tuple[str, str] | None
    updated_at: dt.datetime
    due_at: dt.datetime | None

    @property
    def owed(self) -> bool:
        """Whether the work is still owed (a due time means something)."""
        return self.state == "open" and self.status != S.DRAFT

    @property
    def notes(self) -> str:
        """The status in Chinese and English, as Open311's ``status_notes``."""
        return f"{self.words[0]} / {self.words[1]}"


def public_status(row: Mapping[str, Any]) -> PublicStatus:
    """The public status of an order row (``number``, ``status``, ``agency_zh``,
    ``agency_en``, ``updated_at``, ``resolution_due_at``)."""
    status = row["status"]
    return PublicStatus(
        number=row["number"],
        status=status,
        state="closed" if status in CLOSED_STATUSES else "open",
        words=STATUS_WORDS[status],
        agency=(row["agency_zh"], row["agency_en"] or row["agency_zh"])
        if row["agency_zh"]
        else None,
        updated_at=row["updated_at"],
        due_at=row["resolution_due_at"],
    )


# ------------------------------------------------------------- in words

WEEKDAYS_ZH = "一二三四五六日"
WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def moment_words(at: dt.datetime, tz: ZoneInfo, language: Language) -> str:
    """A moment in local time as people say it: "12月8日（周二）17:30",
    "Tue 8 Dec, 17:30"."""
    local = at.astimezone(tz)
    hm = local.strftime("%H:%M")
    if language == "zh":
        return f"{local.month}月{local.day}日（周{WEEKDAYS_ZH[local.weekday()]}）{hm}"
    return f"{WEEKDAYS_EN[local.weekday()]} {local.day} {MONTHS_EN[local.month - 1]}, {hm}"


WORDS: dict[Language, dict[str, str]] = {
    "zh": {
        "received": "收到您的反映",
        "registered": "热线受理登记",
        "dispatched": "派至承办单位",
        "signed": "承办单位签收",
        "progress": "办理进展",
        "extended": "办理时限延长至 {due}",
        "coordinating": "热线中心协调督办",
        "completed": "承办单位办结",
        "answered": "话务员当场答复办结",
        "callback": "开始回访",
        "called_back": "已回访",
        "closed": "归档",
        "reopened": "重新办理",
        "merged": "并入同一问题的工单",
        "cancelled": "撤销",
        "transferred": "已转交 12345 等对口平台办理",
        "follow_up_more_info": "您补充了情况",
        "follow_up_persists": "您反映问题仍未解决",
        "sign_for_due": "承办单位应于 {due} 前签收",
        "resolution_due": "应于 {due} 前办结",
        "overdue": "（已超过时限，热线中心正在督办）",
        "draft_limit": "话务员确认受理后开始计算办理时限。",
        "done_limit": "已办结。我们会电话或短信回访，听取您的意见。",
        "final_limit": "此工单已结束，不再计时。",
        "merged_into": "与工单 {number} 反映的是同一问题，一并办理。该工单目前：{status}。",
    },
    "en": {
        "received": "Your report reached us",
        "registered": "Registered by the hotline",
        "dispatched": "Sent to the responsible unit",
        "signed": "The unit signed for it",
        "progress": "Progress",
        "extended": "Time limit extended to {due}",
        "coordinating": "The hotline centre is coordinating it",
        "completed": "Completed by the unit",
        "answered": "Answered and resolved during the call",
        "callback": "Callback started",
        "called_back": "Called back",
        "closed": "Closed",
        "reopened": "Reopened",
        "merged": "Merged into a report of the same problem",
        "cancelled": "Cancelled",
        "transferred": "Passed to the 12345 platform (or the body responsible)",
        "follow_up_more_info": "You added information",
        "follow_up_persists": "You said the problem persists",
        "sign_for_due": "The unit must sign for it by {due}",
        "resolution_due": "Due to be resolved by {due}",
        "overdue": " (past its time limit; the hotline centre is pressing the unit)",
        "draft_limit": "The time limit starts once an agent registers it.",
        "done_limit": "Completed. We will call or text you to hear whether it was solved.",
        "final_limit": "This order has ended; no time limit runs.",
        "merged_into": (
            "Your report is the same problem as order {number}, handled with it. "
            "That order now: {status}."
        ),
    },
}

# The events a citizen sees: event type -> the kind of timeline entry it is. Returns,
# internal notes, rulings and suspensions stay inside the centre.
_ENTRY_KINDS = {
    "order.drafted": "received",
    "order.registered": "registered",
    "order.confirm": "registered",
    "order.dispatch": "dispatched",
    "order.sign_for": "signed",
    "dispatch.note": "progress",
    "time_request.approved": "extended",
    "order.escalate": "coordinating",
    "order.complete": "completed",
    "order.resolve_on_call": "answered",
    "order.start_callback": "callback",
    "callback.answered": "called_back",
    "order.close": "closed",
    "order.reopen": "reopened",
    "order.merge": "merged",
    "order.cancel": "cancelled",
    "order.transfer": "transferred",
    "citizen.follow_up": "follow_up",
}


def _entry(event: Mapping[str, Any], tz: ZoneInfo, language: Language) -> dict[str, Any]:
    words = WORDS[language]
    kind = _ENTRY_KINDS[event["type"]]
    data = event["data"]
    text: str | None = None
    label_key = kind
    if kind == "progress":
        text = data.get("text")
    elif kind in ("completed", "answered"):
        text = data.get("reply")
    elif kind == "follow_up":
        label_key = f"follow_up_{data.get('kind', 'more_info')}"
        text = data.get("text")
    label = words[label_key]
    if kind == "extended":
        label = label.format(
            due=moment_words(dt.datetime.fromisoformat(data["due_at"]), tz, language)
        )
    unit = None
    if kind in ("dispatched", "signed", "progress", "completed") and event["unit_zh"]:
        unit = event["unit_zh"] if language == "zh" else (event["unit_en"] or event["unit_zh"])
    return {
        "kind": kind,
        "label": label,
        "at": event["created_at"],
        "when": moment_words(event["created_at"], tz, language),
        "unit": unit,
        "text": text,
    }


def _limits(
    row: Mapping[str, Any], tz: ZoneInfo, now: dt.datetime, language: Language
) -> list[str]:
    words = WORDS[language]
    status = row["status"]
    if status == S.DRAFT:
        return [words["draft_limit"]]
    if status in DONE:
        return [words["done_limit"]]
    if status in FINAL:
        return [words["final_limit"]]
    lines = []
    if row["sign_for_due_at"]:
        lines.append(
            words["sign_for_due"].format(due=moment_words(row["sign_for_due_at"], tz, language))
        )
    due = row["resolution_due_at"]
    if due:
        late = words["overdue"] if now > due else ""
        lines.append(words["resolution_due"].format(due=moment_words(due, tz, language)) + late)
    return lines


def _merged_into(parent: Mapping[str, Any] | None, language: Language) -> str | None:
    """Where a merged order's work is done: the parent's number and public status (a
    merged caller is called back about the parent's work)."""
    if parent is None:
        return None
    status = public_status(parent)
    words = _pick(status.words, language)
    if status.agency:
        words += f"（{status.agency[0]}）" if language == "zh" else f" ({status.agency[1]})"
    return WORDS[language]["merged_into"].format(number=parent["number"], status=words)


def build(
    row: Mapping[str, Any],
    events: Sequence[Mapping[str, Any]],
    *,
    tz: ZoneInfo,
    now: dt.datetime,
    language: Language,
    parent: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The order as its reporter sees it: status, unit, time limits, timeline (oldest
    first), the unit's reply once completed; a merged order names the order it was
    merged into (``parent``) and how that one stands."""
    status = public_status(row)
    return {
        "number": row["number"],
        "hotline": {
            "name": row["hotline_zh"] if language == "zh" else row["hotline_en"],
            "number": row["hotline_number"],
        },
        "service": (row["service_name_zh"] if language == "zh" else row["service_name_en"]) or "",
        "status": status.status,
        "state": status.state,
        "status_words": _pick(status.words, language),
        "agency": _pick(status.agency, language) if status.agency else None,
        "registered": moment_words(row["created_at"], tz, language),
        "updated": moment_words(row["updated_at"], tz, language),
        "due_at": status.due_at if status.owed else None,
        "limits": _limits(row, tz, now, language),
        "merged_into": _merged_into(parent, language),
        # A reopened order's reply is the one that did not solve it: not shown.
        "reply": (row["reply"] or None) if row["status"] in DONE | {S.CLOSED} else None,
        "timeline": [_entry(e, tz, language) for e in events],
    }


async def view(
    conn: asyncpg.Connection,
    order_id: int,
    *,
    tz: ZoneInfo,
    now: dt.datetime,
    language: Language,
) -> dict[str, Any]:
    """``build`` for one order, read now."""
    row = await queries.public_order(conn, order_id)
    assert row is not None
    events = await queries.public_events(conn, order_id, list(_ENTRY_KINDS))
    parent = None
    if row["status"] == S.MERGED and row["parent_id"] is not None:
        parent = await queries.public_order(conn, row["parent_id"])
    return build(row, events, tz=tz, now=now, language=language, parent=parent)


def lookup_url(settings: Settings, number: str | None = None, language: Language = "zh") -> str:
    """The page where a citizen looks an order up (its number filled in): for texts that
    tell them where to look (status notifications, the SMS answer)."""
    params = {
        k: v for k, v in (("number", number), ("lang", "en" if language == "en" else None)) if v
    }
    query = f"?{urlencode(params)}" if params else ""
    return f"{settings.base_url}/track{query}"


# ------------------------------------------------------------- who may look


_DASHES = str.maketrans({c: "-" for c in "‐‑‒–—―−﹣_"})
NUMBER = re.compile(r"(\d{3,6})-(\d{8})-(\d{4,6})")
_BARE_NUMBER = re.compile(r"(\d{5})(\d{8})(\d{4})")


def clean_number(raw: str) -> str | None:
    """An order number as typed (full-width digits, spaces, other dashes, or no dashes
    at all) in its stored form, or None when it cannot be one."""
    text = unicodedata.normalize("NFKC", raw).translate(_DASHES)
    text = "".join(text.split())
    match = NUMBER.fullmatch(text) or _BARE_NUMBER.fullmatch(text)
    return "-".join(match.groups()) if match else None


def _same_phone(given: str, stored: str | None) -> bool:
    """Whether ``given`` (as typed) is the stored E.164 phone, compared in constant time
    whatever the inputs (a number without a phone compares against a blank)."""
    try:
        normalized = normalize_phone(given)
    except InvalidInput:
        normalized = ""
    return hmac.compare_digest(normalized.encode(), (stored or "\x00").encode())


def _token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _code_hash(salt: bytes, code: str) -> bytes:
    return hashlib.sha256(salt + code.encode()).digest()


async def limit(
    limiter: ratelimit.Limiter, settings: Settings, ip: str, number: str | None
) -> None:
    """Count one attempt from ``ip`` about ``number`` (every attempt, right or wrong, so
    a right guess is refused too once over a limit); ``TooManyRequests`` over either."""
    await limiter.hit(
        ratelimit.ip_key(SCOPE, ip),
        limit=settings.public_rate_per_ip,
        window_seconds=settings.public_rate_window_seconds,
    )
    if number is not None:
        await limiter.hit(
            ratelimit.order_key(SCOPE, number),
            limit=settings.public_rate_per_phone,
            window_seconds=settings.public_rate_window_seconds,
        )


async def _grant(conn: asyncpg.Connection, order_id: int, now: dt.datetime) -> str:
    token = secrets.token_urlsafe(24)
    await queries.insert_grant(
        conn, token_hash=_token_hash(token), order_id=order_id, now=now, expires_at=now + GRANT_TTL
    )
    return token


@dataclass(frozen=True)
class Access:
    """A verified lookup: the order, and the grant that lets the page add to it."""

    order_id: int
    grant: str


async def do_lookup_by_phone(
    conn: asyncpg.Connection, number: str, phone: str, now: dt.datetime
) -> Access | None:
    """The order numbered ``number`` if it was reported from ``phone``; else None, the
    same for a number that does not exist."""
    order = await queries.order_to_verify(conn, number)
    matches = _same_phone(phone, order["caller_phone"] if order else None)
    if order is None or not matches:
        return None
    return Access(order["id"], await _grant(conn, order["id"], now))


def code_text(hotline_number: str, code: str) -> str:
    minutes = int(CODE_TTL.total_seconds() // 60)
    return (
        f"【{hotline_number}热线】您查询工单进度的验证码是 {code}，{minutes}分钟内有效，"
        "仅可使用一次。如非本人操作，请忽略。"
    )


# The outbox topic of a code asked for (``handlers.on_code_requested`` makes and sends it).
CODE_REQUESTED = "track.code_requested"


async def do_request_code(conn: asyncpg.Connection, number: str) -> None:
    """Ask for a code for the order numbered ``number``: one outbox row, whether or not
    the number exists, so the request does the same work either way and its timing says
    nothing of the number; the worker makes and sends the code (``do_send_code``)."""
    await outbox.insert(
        conn,
        topic=CODE_REQUESTED,
        key=f"{CODE_REQUESTED}:{uuid.uuid4().hex}",
        payload={"number": number},
    )


async def do_send_code(conn: asyncpg.Connection, number: str, now: dt.datetime) -> None:
    """A fresh code for the order numbered ``number``, queued by SMS to the phone that
    reported it (from its hotline's number). Nothing for a number that does not exist
    or has no phone; the caller answers the same either way."""
    order = await queries.order_to_verify(conn, number)
    if order is None or not order["caller_phone"]:
        return
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    salt = secrets.token_bytes(16)
    code_id = await queries.insert_code(
        conn,
        order_id=order["id"],
        salt=salt,
        code_hash=_code_hash(salt, code),
        now=now,
        expires_at=now + CODE_TTL,
    )
    hotline = next(h for h in await reference.hotlines(conn) if h["code"] == order["hotline_code"])
    await queue_sms(
        conn,
        effect_key=f"track.code:{code_id}",
        to_phone=order["caller_phone"],
        from_number=hotline["voice_number"] or hotline["number"],
        body=code_text(hotline["number"], code),
    )


async def do_lookup_by_code(
    conn: asyncpg.Connection, number: str, code: str, now: dt.datetime
) -> Access | None:
    """The order numbered ``number`` if ``code`` is its newest live code; the code is
    then spent. A wrong code uses up one of its attempts. None otherwise."""
    order = await queries.order_to_verify(conn, number)
    if order is None:
        return None
    live = await queries.live_code(conn, order["id"], now=now, max_attempts=CODE_ATTEMPTS)
    if live is None:
        return None
    given = unicodedata.normalize("NFKC", code).strip()
    right = hmac.compare_digest(_code_hash(live["salt"], given), live["code_hash"])
    await queries.count_attempt(conn, live["id"], used_at=now if right else None)
    if not right:
        return None
    return Access(order["id"], await _grant(conn, order["id"], now))


async def granted(conn: asyncpg.Connection, grant: str, now: dt.datetime) -> int | None:
    """The order a live grant is for."""
    return await queries.granted_order(conn, _token_hash(grant), now)


async def number_of(conn: asyncpg.Connection, order_id: int) -> str | None:
    """The number of an order a grant names (the follow-up counts against it)."""
    return await queries.number_of(conn, order_id)


async def do_follow_up(
    conn: asyncpg.Connection,
    order_id: int,
    *,
    kind: FollowUpKind,
    text: str,
    channel: Literal["web", "sms"],
    now: dt.datetime,
) -> asyncpg.Record:
    """The citizen adds information, or says the problem persists: an event in the
    order's history (``citizen.follow_up``), which the centre's consoles and every unit
    with a dispatch on the order receive live and read on the order page. It changes no
    status: an agent or the unit decides what it calls for."""
    return await record_event(
        conn,
        order_id,
        "citizen.follow_up",
        None,
        now,
        data={"kind": kind, "text": text, "channel": channel},
    )


# ----------------------------------------------------------------- by SMS

# Words a lookup SMS may be made of besides the order number (and spaces and
# punctuation): any other word makes the SMS a report.
LOOKUP_WORDS = (
    "您好", "你好", "谢谢", "请", "麻烦", "帮我", "帮忙", "我想", "我要", "我的",
    "一下", "工单号", "工单", "编号", "单号", "查询", "查", "进度", "办理", "处理",
    "情况", "的", "吗", "呢",
)  # fmt: skip
_LOOKUP_WORDS = re.compile("(?:" + "|".join(LOOKUP_WORDS) + ")*")


@dataclass(frozen=True)
class SmsLookup:
    number: str | None  # the order named, if any


def parse_lookup(body: str) -> SmsLookup | None:
    """Whether an SMS asks for progress, and about which order.

    The rule: with spaces and punctuation removed (full-width ones too) and the order
    number (if any) taken out, what is left is only lookup words (``LOOKUP_WORDS``) and
    contains 查询 or 进度 (or 查 beside a number). "查询", "进度", "查询 12319-20261205-0007
    进度", "查进度" are lookups; "查询一下为什么又停水了" names other words: a report."""
    text = unicodedata.normalize("NFKC", body).translate(_DASHES)
    match = NUMBER.search(text)
    number = "-".join(match.groups()) if match else None
    rest = NUMBER.sub("", text) if match else text
    rest = "".join(
        ch
        for ch in rest
        if not ch.isspace() and not unicodedata.category(ch).startswith(("P", "S"))
    )
    if not _LOOKUP_WORDS.fullmatch(rest):
        return None
    if "查询" in rest or "进度" in rest or (number and "查" in rest):
        return SmsLookup(number)
    return None


SMS_NOT_YOURS = (
    "未查到本机号码登记的工单 {number}。请核对编号，或发送“查询”查看本机号码的在办工单。"
)
SMS_NONE = "本机号码目前没有在办工单。已办结的工单可在 {url} 凭工单号和手机号查询。"
SMS_SOME = "本机号码的在办工单{count}件：{orders}。详情请到 {url} 查询。"


def sms_line(row: Mapping[str, Any], tz: ZoneInfo, now: dt.datetime) -> str:
    """One order in an SMS answer: number, status, unit, due or (done) the reply's start."""
    status = public_status(row)
    parts = [f"{row['number']} {status.words[0]}"]
    if status.agency:
        parts.append(f"承办单位{status.agency[0]}")
    if status.due_at and status.owed:
        parts.append(
            WORDS["zh"]["resolution_due"].format(due=moment_words(status.due_at, tz, "zh"))
        )
    if row["reply"]:
        reply = row["reply"]
        cut = reply if len(reply) <= SMS_REPLY_CHARS else reply[:SMS_REPLY_CHARS] + "…"
        parts.append(f"答复：{cut}")
    return "，".join(parts)


async def sms_answer(
    conn: asyncpg.Connection, lookup: SmsLookup, phone: str, *, settings: Settings, now: dt.datetime
) -> str:
    """The answer to a lookup SMS from ``phone`` (E.164): the order it names if that
    phone reported it, else the phone's open orders (at most ``SMS_ORDERS``)."""
    tz = ZoneInfo(settings.timezone)
    if lookup.number is not None:
        order = await queries.order_to_verify(conn, lookup.number)
        if order is None or not _same_phone(phone, order["caller_phone"]):
            return SMS_NOT_YOURS.format(number=lookup.number)
        row = await queries.public_order(conn, order["id"])
        assert row is not None
        return f"{sms_line(row, tz, now)}。详情请到 {lookup_url(settings, lookup.number)} 查询。"
    rows = await queries.open_orders_of_phone(conn, phone, final=sorted(FINAL), limit=SMS_ORDERS)
    if not rows:
        return SMS_NONE.format(url=lookup_url(settings))
    return SMS_SOME.format(
        count=len(rows),
        orders="；".join(sms_line(r, tz, now) for r in rows),
        url=lookup_url(settings),
    )


async def do_answer_sms(
    conn: asyncpg.Connection,
    lookup: SmsLookup,
    *,
    phone: str,
    hotline: Mapping[str, Any],
    message_sid: str,
    settings: Settings,
    now: dt.datetime,
) -> None:
    """Queue the answer to a lookup SMS through the outbound path (kept in
    ``outbound_messages``, once per inbound message), from the number it was sent to."""
    await queue_sms(
        conn,
        effect_key=f"track.sms:{message_sid}",
        to_phone=phone,
        from_number=hotline["voice_number"] or hotline["number"],
        body=await sms_answer(conn, lookup, phone, settings=settings, now=now),
    )
