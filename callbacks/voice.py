"""What the citizen hears and reads in a survey: TwiML of the voice survey, the SMS
texts, and the reading of SMS answers.

Pure functions (no database), TwiML built with Twilio's ``VoiceResponse``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from twilio.twiml.voice_response import VoiceResponse

from integrations.telephony.voice import LANGUAGE

DIGIT_TIMEOUT_SECONDS = 8
COMMENT_MAX_SECONDS = 60

ASK_SOLVED = "您反映的问题是否已经解决？已解决请按1，未解决请按2。"
ASK_RATING = (
    "请您对本次服务进行评价：非常满意请按5，满意请按4，基本满意请按3，"
    "不满意请按2，非常不满意请按1。"
)
ASK_COMMENT = "如您还有意见或建议，请在提示音后留言，按井号键结束。"
INVALID = "您的输入有误。"
THANKS = "感谢您的评价，再见。"
SORRY_BYE = "抱歉打扰，再见。"

SMS_SOLVED = (
    "【{line}回访】您反映的问题{order}已办结。问题是否已解决？已解决请回复1，未解决请回复2。"
)
SMS_RATING = (
    "【{line}回访】请对本次服务评价，回复数字：5非常满意 4满意 3基本满意 2不满意 1非常不满意"
    "（可在数字后附上您的意见）。"
)
# To the callers merged into an order (an outage's callers), when the order is done.
SMS_FIXED = "【{line}】您反映的问题（工单{order}）已处理完毕，稍后我们将回访听取您的意见。"
SMS_THANKS_GOOD = "感谢您的评价！"
SMS_THANKS_BAD = "感谢您的反馈，我们将督促承办单位重新办理。"

# Longest first: 非常不满意 contains 不满意 and 满意.
LEVEL_NAMES = (("非常不满意", 1), ("非常满意", 5), ("基本满意", 3), ("不满意", 2), ("满意", 4))
SOLVED_WORDS = (
    ("未解决", False),
    ("没有解决", False),
    ("没解决", False),
    ("已解决", True),
    ("解决了", True),
    ("解决", True),
    ("是", True),
    ("否", False),
)
_PUNCTUATION = re.compile(r"^[\s\W_]+|[\s\W_]+$")


@dataclass(frozen=True)
class SurveyUrls:
    """The absolute URLs Twilio calls during one attempt's survey call."""

    base: str
    attempt_id: int

    SURVEY = "/twilio/callbacks/survey"
    SOLVED = "/twilio/callbacks/solved"
    RATING = "/twilio/callbacks/rating"
    COMMENT = "/twilio/callbacks/comment"
    THANKS = "/twilio/callbacks/thanks"
    STATUS = "/twilio/callbacks/status"

    def _url(self, path: str, again: bool = False) -> str:
        return f"{self.base}{path}?attempt={self.attempt_id}" + ("&again=1" if again else "")

    @property
    def survey(self) -> str:
        return self._url(self.SURVEY)

    @property
    def status(self) -> str:
        return self._url(self.STATUS)

    def solved(self, again: bool = False) -> str:
        return self._url(self.SOLVED, again)

    def rating(self, again: bool = False) -> str:
        return self._url(self.RATING, again)

    @property
    def comment(self) -> str:
        return self._url(self.COMMENT)

    @property
    def thanks(self) -> str:
        return f"{self.base}{self.THANKS}"


def _ask(response: VoiceResponse, text: str, action: str) -> str:
    """One digit; without one Twilio goes on to the redirect, to the same action."""
    gather = response.gather(num_digits=1, action=action, timeout=DIGIT_TIMEOUT_SECONDS)
    gather.say(text, language=LANGUAGE)
    response.redirect(action)
    return str(response.to_xml())


def ask(step: str, urls: SurveyUrls, *, greeting: str = "", again: bool = False) -> str:
    """The question of ``step`` (solved or rating); ``again`` after a wrong digit."""
    response = VoiceResponse()
    if greeting:
        response.say(greeting, language=LANGUAGE)
    if again:
        response.say(INVALID, language=LANGUAGE)
    if step == "solved":
        return _ask(response, ASK_SOLVED, urls.solved(again))
    return _ask(response, ASK_RATING, urls.rating(again))


def greeting(line_name: str, order_number: str | None) -> str:
    about = f"关于您反映的问题，工单号{order_number}，" if order_number else ""
    return f"您好，这里是{line_name}回访。{about}耽误您一分钟。"


def ask_comment(urls: SurveyUrls) -> str:
    """After the rating: an optional spoken comment, then thanks."""
    response = VoiceResponse()
    response.say(ASK_COMMENT, language=LANGUAGE)
    response.record(
        max_length=COMMENT_MAX_SECONDS,
        play_beep=True,
        finish_on_key="#",
        action=urls.thanks,
        recording_status_callback=urls.comment,
    )
    response.say(THANKS, language=LANGUAGE)
    response.hangup()
    return str(response.to_xml())


def hang_up(text: str = SORRY_BYE) -> str:
    response = VoiceResponse()
    if text:
        response.say(text, language=LANGUAGE)
    response.hangup()
    return str(response.to_xml())


def sms_question(step: str, line: str, order_number: str | None) -> str:
    if step == "solved":
        return SMS_SOLVED.format(line=line, order=f"（工单{order_number}）" if order_number else "")
    return SMS_RATING.format(line=line)


def fault_fixed(line: str, order_number: str) -> str:
    return SMS_FIXED.format(line=line, order=order_number)


def _clean(text: str) -> str:
    """Full-width digits and letters to their ASCII forms (NFKC), outer punctuation off."""
    return _PUNCTUATION.sub("", unicodedata.normalize("NFKC", text))


def read_solved(text: str) -> bool | None:
    """1 / 是 / 已解决 → True, 2 / 否 / 未解决 → False, anything else None."""
    clean = _clean(text)
    if clean[:1] in ("1", "2") and not clean[1:2].isdigit():
        return clean[0] == "1"
    for word, solved in SOLVED_WORDS:
        if clean.startswith(word):
            return solved
    return None


def read_rating(text: str) -> tuple[int, str] | None:
    """A level 1–5 by digit (full-width too) or by its Chinese name, and the words after
    it (the citizen's comment); None when the text gives no level."""
    clean = _clean(text)
    if clean[:1] in "12345" and clean and not clean[1:2].isdigit():
        return int(clean[0]), _clean(clean[1:])
    for name, level in LEVEL_NAMES:
        if clean.startswith(name):
            return level, _clean(clean[len(name) :])
    return None
