"""The progress lookup as HTML pages, rendered on the server (a phone needs no script, a
printer gets the whole timeline), Chinese or English. Every text from the data or the
request is escaped here, once (``_e``). Forms post plain ``application/x-www-form-
urlencoded`` to this site; the language rides along as a hidden field."""

from __future__ import annotations

import html
from collections.abc import Mapping
from string import Template
from typing import Any

from integrations.guide.service import Language

LABELS: dict[Language, dict[str, str]] = {
    "zh": {
        "html_lang": "zh-CN",
        "other_language": "English",
        "other_lang": "en",
        "other_hreflang": "en",
        "title": "工单查询",
        "lead": "输入工单号和反映问题时留的手机号，查看办理进度、承办单位和办理时限。",
        "by_phone": "用工单号和手机号查询",
        "by_code": "不记得留的是哪个号码？用短信验证码查询",
        "by_code_hint": "验证码会发到登记这张工单时留下的手机号。",
        "number": "工单号",
        "number_hint": "例如 12319-20261205-0007",
        "phone": "手机号",
        "code": "短信验证码",
        "look": "查询",
        "send_code": "发送验证码",
        "code_sent": (
            "如果工单号正确且登记时留有手机号，验证码已发送到该手机，{minutes}分钟内有效。"
        ),
        "enter_code": "输入验证码查看",
        "not_found": "没有查到：请核对工单号和手机号（须是反映问题时留的号码）。",
        "code_wrong": "验证码不正确或已失效，请重新获取。",
        "bad_number": "工单号的格式是“热线号-日期-序号”，例如 12319-20261205-0007。",
        "limited": "尝试次数过多，请 {minutes} 分钟后再试，或拨打热线查询。",
        "expired": "查询已过期，请重新查询。",
        "service": "事项",
        "agency": "承办单位",
        "registered": "受理时间",
        "updated": "最近更新",
        "limits": "办理时限",
        "reply": "办理答复",
        "timeline": "办理过程",
        "follow_up": "补充情况或反映问题仍未解决",
        "follow_up_hint": (
            "您写的内容会记入工单，热线中心和承办单位都能看到。"
            "紧急情况（如燃气泄漏）请直接拨打 {number}。"
        ),
        "more_info": "补充情况",
        "persists": "问题仍未解决",
        "text": "内容",
        "submit": "提交",
        "thanks": "已收到，已记入工单并告知承办单位。",
        "text_missing": "请写下要补充的内容（不超过 {max} 字）。",
        "call": "拨打 {number}",
        "again": "查询其他工单",
        "refresh": "刷新",
        "footer": (
            "为保护个人信息，只有留下的手机号或发到该手机的验证码才能查看工单详情。本页可直接打印。"
        ),
    },
    "en": {
        "html_lang": "en",
        "other_language": "中文",
        "other_lang": "zh",
        "other_hreflang": "zh-CN",
        "title": "Track your order",
        "lead": (
            "Enter your order number and the phone number you reported from to see how it "
            "stands, which unit handles it and its time limits."
        ),
        "by_phone": "Order number and phone",
        "by_code": "Not sure which number you gave? Get a code by SMS",
        "by_code_hint": "The code goes to the phone number given when the order was taken.",
        "number": "Order number",
        "number_hint": "e.g. 12319-20261205-0007",
        "phone": "Phone number",
        "code": "SMS code",
        "look": "Look it up",
        "send_code": "Send me a code",
        "code_sent": (
            "If the order number is right and a phone was given with it, a code is on its way "
            "to that phone; it is good for {minutes} minutes."
        ),
        "enter_code": "Enter the code",
        "not_found": (
            "Nothing found: check the order number and the phone (the one you reported from)."
        ),
        "code_wrong": "The code is wrong or no longer valid; ask for a new one.",
        "bad_number": (
            "An order number is hotline-date-sequence, for example 12319-20261205-0007."
        ),
        "limited": "Too many tries. Try again in {minutes} minutes, or call the hotline.",
        "expired": "This lookup has expired; look the order up again.",
        "service": "Service",
        "agency": "Responsible unit",
        "registered": "Registered",
        "updated": "Last update",
        "limits": "Time limits",
        "reply": "The unit's reply",
        "timeline": "What happened",
        "follow_up": "Add information, or tell us the problem persists",
        "follow_up_hint": (
            "What you write goes into the order's record for the hotline centre and the unit. "
            "In an emergency (a gas leak) call {number} instead."
        ),
        "more_info": "Add information",
        "persists": "The problem persists",
        "text": "Your message",
        "submit": "Send",
        "thanks": "Received: it is in the order's record and the unit has been told.",
        "text_missing": "Write what you want to add (at most {max} characters).",
        "call": "Call {number}",
        "again": "Look up another order",
        "refresh": "Refresh",
        "footer": (
            "To protect personal information, an order's details are shown only with the "
            "phone number given with it or a code sent to that phone. Print this page as it is."
        ),
    },
}

PAGE = Template("""<!doctype html>
<html lang="$html_lang">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/static/guide.css">
<link rel="stylesheet" href="/static/track.css">
<title>$title</title>
</head>
<body class="track">
<header class="top">
<div class="bar"><a class="home" href="/track$lang_query">$home</a>$switch</div>
$header
</header>
<main>
$main
</main>
<footer>$footer</footer>
</body>
</html>
""")


def _e(value: object) -> str:
    return html.escape(str(value))


def _hidden(name: str, value: str) -> str:
    return f'<input type="hidden" name="{name}" value="{_e(value)}">'


def _lines(text: str) -> str:
    return "".join(f"<p>{_e(line)}</p>" for line in text.splitlines() if line.strip())


def _notice(text: str | None, kind: str = "error") -> str:
    if not text:
        return ""
    return f'<p class="notice {kind}" role="status" data-test="notice">{_e(text)}</p>'


def _shell(language: Language, *, title: str, header: str, main: str, switch: str) -> str:
    words = LABELS[language]
    return PAGE.substitute(
        html_lang=words["html_lang"],
        title=_e(title),
        home=_e(words["title"]),
        lang_query="?lang=en" if language == "en" else "",
        switch=switch,
        header=header,
        main=main,
        footer=_e(words["footer"]),
    )


def _link_switch(language: Language, number: str) -> str:
    words = LABELS[language]
    query = f"?lang={words['other_lang']}" + (f"&number={number}" if number else "")
    return (
        f'<a class="lang" data-test="language" hreflang="{words["other_hreflang"]}" '
        f'href="/track{_e(query)}">{_e(words["other_language"])}</a>'
    )


def _field(name: str, label: str, value: str = "", **attrs: str) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{_e(v)}"' for k, v in attrs.items())
    return (
        f'<label class="field"><span>{_e(label)}</span>'
        f'<input name="{name}" value="{_e(value)}"{extra}></label>'
    )


def render_form(
    language: Language,
    *,
    number: str = "",
    message: str | None = None,
    status: str = "error",
) -> str:
    """The lookup's start: the number with the phone, or the number for a code."""
    words = LABELS[language]
    number_field = _field(
        "number",
        words["number"],
        number,
        required="required",
        autocomplete="off",
        placeholder=words["number_hint"],
        inputmode="text",
        maxlength="40",
        data_test="number",
    )
    by_phone = (
        f'<section id="by-phone" data-test="by-phone"><h2>{_e(words["by_phone"])}</h2>'
        f'<form method="post" action="/track">{_hidden("lang", language)}{number_field}'
        + _field(
            "phone",
            words["phone"],
            required="required",
            type="tel",
            autocomplete="tel",
            maxlength="32",
            data_test="phone",
        )
        + f'<button type="submit" data-test="look">{_e(words["look"])}</button></form></section>'
    )
    by_code = (
        f'<section id="by-code" data-test="by-code"><h2>{_e(words["by_code"])}</h2>'
        f'<p class="note">{_e(words["by_code_hint"])}</p>'
        f'<form method="post" action="/track/code">{_hidden("lang", language)}'
        + number_field.replace('data-test="number"', 'data-test="code-number"')
        + f'<button type="submit" class="secondary" data-test="send-code">'
        f"{_e(words['send_code'])}</button></form></section>"
    )
    header = f'<h1>{_e(words["title"])}</h1><p class="lead">{_e(words["lead"])}</p>'
    return _shell(
        language,
        title=words["title"],
        header=header,
        main=_notice(message, status) + by_phone + by_code,
        switch=_link_switch(language, number),
    )


def render_code_form(language: Language, *, number: str, minutes: int) -> str:
    """After a code was asked for: the same words whether or not one was sent."""
    words = LABELS[language]
    form = (
        f'<section id="enter-code" data-test="enter-code"><h2>{_e(words["enter_code"])}</h2>'
        f'<form method="post" action="/track">{_hidden("lang", language)}'
        + _field("number", words["number"], number, required="required", maxlength="40")
        + _field(
            "code",
            words["code"],
            required="required",
            inputmode="numeric",
            autocomplete="one-time-code",
            maxlength="12",
            data_test="code",
        )
        + f'<button type="submit" data-test="look">{_e(words["look"])}</button></form></section>'
    )
    notice = _notice(words["code_sent"].format(minutes=minutes), "info")
    header = f"<h1>{_e(words['title'])}</h1>"
    return _shell(
        language,
        title=words["title"],
        header=header,
        main=notice + form,
        switch=_link_switch(language, number),
    )


def _facts(order: Mapping[str, Any], words: Mapping[str, str]) -> str:
    rows = [
        ("service", words["service"], order["service"]),
        ("agency", words["agency"], order["agency"]),
        ("registered", words["registered"], order["registered"]),
        ("updated", words["updated"], order["updated"]),
    ]
    return "".join(
        f'<div data-test="fact-{key}"><dt>{_e(label)}</dt><dd>{_e(value)}</dd></div>'
        for key, label, value in rows
        if value
    )


def _timeline(entries: list[Mapping[str, Any]]) -> str:
    items = []
    for entry in entries:
        unit = f'<span class="unit">{_e(entry["unit"])}</span>' if entry["unit"] else ""
        text = f'<div class="text">{_lines(entry["text"])}</div>' if entry["text"] else ""
        items.append(
            f'<li class="{_e(entry["kind"])}" data-test="entry" data-kind="{_e(entry["kind"])}">'
            f'<time datetime="{entry["at"].isoformat()}">{_e(entry["when"])}</time>'
            f'<p class="what"><b>{_e(entry["label"])}</b> {unit}</p>{text}</li>'
        )
    return f'<ol class="timeline">{"".join(items)}</ol>'


def _follow_up_form(language: Language, grant: str, hotline_number: str, max_chars: int) -> str:
    words = LABELS[language]
    choices = "".join(
        f'<label class="choice"><input type="radio" name="kind" value="{kind}"'
        f'{" checked" if kind == "more_info" else ""} data-test="kind-{kind}"> '
        f"{_e(words[kind])}</label>"
        for kind in ("more_info", "persists")
    )
    return (
        f'<form method="post" action="/track/follow-up" class="follow-up">'
        f"{_hidden('lang', language)}{_hidden('grant', grant)}"
        f'<fieldset class="choices">{choices}</fieldset>'
        f'<label class="field"><span>{_e(words["text"])}</span>'
        f'<textarea name="text" rows="4" maxlength="{max_chars}" required data-test="text">'
        f"</textarea></label>"
        f'<button type="submit" data-test="send">{_e(words["submit"])}</button></form>'
        f'<p class="note">{_e(words["follow_up_hint"].format(number=hotline_number))}</p>'
    )


def render_order(
    order: Mapping[str, Any],
    language: Language,
    *,
    grant: str,
    max_chars: int,
    message: str | None = None,
    message_kind: str = "info",
) -> str:
    """One order as its reporter sees it, with the follow-up form."""
    words = LABELS[language]
    hotline = order["hotline"]
    other = words["other_lang"]
    # The other language is the same lookup again (the grant), not a fresh start.
    switch = (
        f'<form method="post" action="/track" class="lang-form">{_hidden("lang", other)}'
        f'{_hidden("grant", grant)}<button type="submit" class="lang" data-test="language" '
        f'lang="{words["other_hreflang"]}">{_e(words["other_language"])}</button></form>'
    )
    header = (
        f'<h1>{_e(words["number"])} <span class="number" data-test="order-number">'
        f"{_e(order['number'])}</span></h1>"
        f'<p class="lead status {_e(order["state"])}" data-test="status">'
        f"{_e(order['status_words'])}</p>"
    )
    limits = "".join(f"<li>{_e(line)}</li>" for line in order["limits"])
    merged = f'<p class="note">{_e(order["merged_into"])}</p>' if order["merged_into"] else ""
    reply = (
        f'<section id="reply" data-test="reply"><h2>{_e(words["reply"])}</h2>'
        f"{_lines(order['reply'])}</section>"
        if order["reply"]
        else ""
    )
    home = "/track?lang=en" if language == "en" else "/track"
    refresh = (
        f'<form method="post" action="/track" class="inline">{_hidden("lang", language)}'
        f'{_hidden("grant", grant)}<button type="submit" class="secondary">'
        f"{_e(words['refresh'])}</button></form>"
    )
    main = "".join(
        (
            _notice(message, message_kind),
            f'<section id="facts" data-test="facts"><dl class="facts">{_facts(order, words)}</dl>'
            f"{merged}</section>",
            f'<section id="limits" data-test="limits"><h2>{_e(words["limits"])}</h2>'
            f"<ul>{limits}</ul></section>",
            reply,
            f'<section id="timeline" data-test="timeline"><h2>{_e(words["timeline"])}</h2>'
            f"{_timeline(order['timeline'])}</section>",
            f'<section id="follow-up" data-test="follow-up"><h2>{_e(words["follow_up"])}</h2>'
            f"{_follow_up_form(language, grant, hotline['number'], max_chars)}</section>",
            f'<div class="actions"><a class="call" href="tel:{_e(hotline["number"])}">'
            f"{_e(words['call'].format(number=hotline['number']))}</a>{refresh}"
            f'<a href="{home}">{_e(words["again"])}</a></div>',
        )
    )
    return _shell(
        language,
        title=f"{words['title']} {order['number']}",
        header=header,
        main=main,
        switch=switch,
    )
