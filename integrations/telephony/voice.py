"""TwiML documents: what a caller hears, and the reply to an SMS.

Pure functions of their arguments (no database, no settings object), built with
Twilio's own ``VoiceResponse`` / ``MessagingResponse`` so the markup is always valid.
Every URL passed in is absolute (Twilio signs and calls exactly that URL).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

LANGUAGE = "zh-CN"
MENU_PROMPT = "故障报修请按1，业务咨询请按2，投诉请按3，人工服务请按0"
# The digit a caller presses, and the choice stored on the call.
MENU_CHOICES = {"1": "repair", "2": "consultation", "3": "complaint", "0": "agent"}
NO_CHOICE = "none"  # no digit pressed (or a wrong one twice): straight to an agent
MENU_TIMEOUT_SECONDS = 6
MESSAGE_MAX_SECONDS = 120
HOLD_PAUSE_SECONDS = 10
DEFAULT_GREETING = "您好，这里是服务热线。"
SORRY_UNKNOWN = "您好，您拨打的号码暂不提供服务，请核对后再拨。"
INVALID_DIGIT = "您的输入有误，请重新选择。"
PLEASE_HOLD = "话务员正忙，请稍候。"
LEAVE_MESSAGE = "话务员正忙，请在提示音后留言，说明您的问题和地址，按井号键结束。"
GOODBYE = "感谢您的来电，我们将尽快处理，再见。"
# A title longer than this is cut: an announcement is heard before the menu, by everyone.
OUTAGE_TITLE_CHARS = 30


@dataclass(frozen=True)
class OutageNotice:
    """A running outage as a caller hears it: its title and when it should end (local)."""

    title: str
    ends_at: dt.datetime


def _spoken_time(moment: dt.datetime, today: dt.date) -> str:
    """How a TTS voice says a local time: "今天18时30分", "明天9时", "12月7日9时"."""
    day = moment.date()
    if day == today:
        prefix = "今天"
    elif day == today + dt.timedelta(days=1):
        prefix = "明天"
    else:
        prefix = f"{moment.month}月{moment.day}日"
    minutes = f"{moment.minute}分" if moment.minute else ""
    return f"{prefix}{moment.hour}时{minutes}"


def outage_line(notice: OutageNotice, today: dt.date) -> str:
    """One short announcement, e.g. "目前香港中路停水，预计今天18时恢复。"."""
    title = notice.title.strip()
    if len(title) > OUTAGE_TITLE_CHARS:
        title = title[:OUTAGE_TITLE_CHARS] + "等"
    return f"目前{title}，预计{_spoken_time(notice.ends_at, today)}恢复。"


def queue_name(hotline_code: str) -> str:
    """The Twilio queue callers of one hotline wait in, e.g. ``hotline-96111``."""
    return f"hotline-{hotline_code}"


def _say(response: VoiceResponse, text: str) -> None:
    response.say(text, language=LANGUAGE)


def _menu(response: VoiceResponse, action: str, announcements: Sequence[str] = ()) -> None:
    """The one-digit menu, after ``announcements``. They are said inside the ``<Gather>``
    so that a caller may press a digit at any time and skip them. Without a digit Twilio
    goes on to the next verb: a redirect to the same action without ``Digits``, which
    queues the caller for an agent."""
    gather = response.gather(num_digits=1, action=action, timeout=MENU_TIMEOUT_SECONDS)
    for text in announcements:
        gather.say(text, language=LANGUAGE)
    gather.say(MENU_PROMPT, language=LANGUAGE)
    response.redirect(action)


def greeting(
    greeting_zh: str, *, outages: Sequence[OutageNotice], today: dt.date, menu_url: str
) -> str:
    """The answer to a new call: greeting, the hotline's running ``outages`` (in the
    order given; ``today`` is the local date their end times are said against), then the
    menu whose choice goes to ``menu_url``."""
    response = VoiceResponse()
    _say(response, greeting_zh or DEFAULT_GREETING)
    _menu(response, menu_url, [outage_line(notice, today) for notice in outages])
    return str(response.to_xml())


def menu_again(menu_url: str) -> str:
    """After a digit that is not on the menu: say so, and offer the menu once more."""
    response = VoiceResponse()
    _say(response, INVALID_DIGIT)
    _menu(response, menu_url)
    return str(response.to_xml())


def enqueue(hotline_code: str, *, wait_url: str, exit_url: str) -> str:
    """Put the caller in the hotline's queue; Twilio asks ``wait_url`` what to play while
    they wait and ``exit_url`` what to do once they leave it."""
    response = VoiceResponse()
    response.enqueue(queue_name(hotline_code), wait_url=wait_url, action=exit_url)
    return str(response.to_xml())


def hold(queue_seconds: int, answer_seconds: int) -> str:
    """The wait document, asked for again each time it ends: "please hold" until the
    caller has waited ``answer_seconds``, then ``<Leave>`` (the queue's exit action then
    offers a message)."""
    response = VoiceResponse()
    if queue_seconds >= answer_seconds:
        response.leave()
    else:
        _say(response, PLEASE_HOLD)
        response.pause(length=max(1, min(HOLD_PAUSE_SECONDS, answer_seconds - queue_seconds)))
    return str(response.to_xml())


def leave_message(*, recording_callback_url: str, goodbye_url: str) -> str:
    """No agent: record a message of up to two minutes. Twilio posts the finished
    recording to ``recording_callback_url``; a caller who says nothing hears goodbye."""
    response = VoiceResponse()
    _say(response, LEAVE_MESSAGE)
    response.record(
        max_length=MESSAGE_MAX_SECONDS,
        play_beep=True,
        finish_on_key="#",
        action=goodbye_url,
        recording_status_callback=recording_callback_url,
    )
    _say(response, GOODBYE)
    response.hangup()
    return str(response.to_xml())


def goodbye() -> str:
    response = VoiceResponse()
    _say(response, GOODBYE)
    response.hangup()
    return str(response.to_xml())


def unknown_number() -> str:
    """A call to a number that is no hotline of ours."""
    response = VoiceResponse()
    _say(response, SORRY_UNKNOWN)
    response.hangup()
    return str(response.to_xml())


_EMPTY = str(VoiceResponse().to_xml())


def empty() -> str:
    """Nothing to do (status callbacks, a queue left after talking to an agent)."""
    return _EMPTY


def sms_reply(text: str | None) -> str:
    """The answer to an SMS: one reply message, or none."""
    response = MessagingResponse()
    if text:
        response.message(text)
    return str(response.to_xml())
