"""The public service guide as an HTML page: rendered on the server from the guide's
JSON (``service.build``), so a phone shows it without running a script and a printer
gets it whole. Every text from the data is escaped here, once (``_e``)."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from string import Template
from typing import Any

from integrations.guide.service import Language

LABELS: dict[Language, dict[str, str]] = {
    "zh": {
        "html_lang": "zh-CN",
        "sep": "、",
        "guide": "服务指南",
        "title": "{name} {number} 服务指南",
        "other_language": "English",
        "other_lang_query": "?lang=en",
        "other_hreflang": "en",
        "call": "拨打 {number}",
        "outages": "正在停水停气停热",
        "services": "服务项目与办理时限",
        "questions": "常见问题",
        "contact": "热线与服务时间",
        "no_outages": "目前没有正在进行的停水、停气、停热。",
        "no_questions": "暂无。",
        "limits_note": (
            "时限从热线受理起计算。工作日、工作小时按国家工作日历计算：不含周末和法定节假日，"
            "调休上班日照常计算；“小时”为自然小时。"
        ),
        "urgent": "紧急情况",
        "documents": "所需材料",
        "fees": "收费标准",
        "time_limit": "承诺时限",
        "steps": "办理流程",
        "areas": "适用区域：",
        "affected": "影响范围：",
        "hotlines": "各热线号码",
        "report": "网上反映问题",
        "footer": "本页内容随知识库、停水停气公告即时更新，可直接打印。",
        "index_title": "热线服务指南",
        "index_intro": "选择热线，查看服务项目、办理时限、办事指南和停水停气信息。",
        "not_found": "没有这条热线：{code}",
        "back": "查看全部热线",
    },
    "en": {
        "html_lang": "en",
        "sep": ", ",
        "guide": "Service guide",
        "title": "{name} {number}: service guide",
        "other_language": "中文",
        "other_lang_query": "?lang=zh",
        "other_hreflang": "zh-CN",
        "call": "Call {number}",
        "outages": "Outages now",
        "services": "Services and time limits",
        "questions": "Common questions",
        "contact": "Numbers and hours",
        "no_outages": "No water, gas or heating outage is running now.",
        "no_questions": "None yet.",
        "limits_note": (
            "Time limits count from when the hotline takes your request. Working days and "
            "working hours follow the national working calendar: weekends and public "
            "holidays do not count, make-up working days do; plain hours are clock hours."
        ),
        "urgent": "When urgent",
        "documents": "Documents to bring",
        "fees": "Fees",
        "time_limit": "Time limit",
        "steps": "Steps",
        "areas": "Applies in: ",
        "affected": "Affected: ",
        "hotlines": "Hotline numbers",
        "report": "Report a problem online",
        "footer": "This page follows the knowledge base and outage notices as they change; "
        "print it as it is.",
        "index_title": "Hotline service guides",
        "index_intro": "Choose a hotline for its services, time limits, guides and outages.",
        "not_found": "There is no hotline {code}",
        "back": "See every hotline",
    },
}

PAGE = Template("""<!doctype html>
<html lang="$html_lang">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/static/guide.css">
<title>$title</title>
</head>
<body>
<header class="top">
<div class="bar"><a class="home" href="/guide$lang_query">$guide</a>
<a class="lang" data-test="language" hreflang="$other_hreflang" href="$other_href">\
$other_language</a></div>
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


def _lines(text: str) -> str:
    """Plain text as paragraphs, one per line (articles are written as plain text)."""
    return "".join(f"<p>{_e(line)}</p>" for line in text.splitlines() if line.strip())


def _shell(
    language: Language, *, title: str, path: str, header: str, main: str, footer: str
) -> str:
    words = LABELS[language]
    return PAGE.substitute(
        html_lang=words["html_lang"],
        title=_e(title),
        guide=_e(words["guide"]),
        lang_query="?lang=en" if language == "en" else "",
        other_hreflang=words["other_hreflang"],
        other_href=_e(path + words["other_lang_query"]),
        other_language=_e(words["other_language"]),
        header=header,
        main=main,
        footer=footer,
    )


def _tag(text: str) -> str:
    return f'<span class="tag">{_e(text)}</span>'


def _section(ident: str, title: str, body: str) -> str:
    return f'<section id="{ident}" data-test="{ident}"><h2>{_e(title)}</h2>{body}</section>'


def _outages(groups: Sequence[Mapping[str, Any]], words: Mapping[str, str]) -> str:
    if not groups:
        return f'<p class="none">{_e(words["no_outages"])}</p>'
    parts = []
    for group in groups:
        cards = "".join(
            f'<div class="outage {_e(o["kind"])}" data-test="outage" data-id="{o["id"]}">'
            f'<h4><span class="tag">{_e(o["domain_name"])} · {_e(o["kind_name"])}</span> '
            f'{_e(o["title"])}</h4><p class="when">'
            f'<time datetime="{o["starts_at"].isoformat()}">{_e(o["period"])}</time></p>'
            f'<p class="where">{_e(words["affected"])}{_e(words["sep"].join(o["streets"]))}</p>'
            f"{_lines(o['description'])}</div>"
            for o in group["outages"]
        )
        parts.append(
            f'<div class="area" data-test="outage-area" data-area="{_e(group["area"]["code"])}">'
            f"<h3>{_e(group['area']['name'])}</h3>{cards}</div>"
        )
    return "".join(parts)


def _article_details(article: Mapping[str, Any], words: Mapping[str, str]) -> str:
    parts = [_lines(article["body"])]
    if article["documents"]:
        items = "".join(f"<li>{_e(d)}</li>" for d in article["documents"])
        parts.append(f'<h5>{_e(words["documents"])}</h5><ul data-test="documents">{items}</ul>')
    if article["fees"]:
        parts.append(
            f'<h5>{_e(words["fees"])}</h5><div data-test="fees">{_lines(article["fees"])}</div>'
        )
    if article["time_limit"]:
        parts.append(f"<h5>{_e(words['time_limit'])}</h5>{_lines(article['time_limit'])}")
    if article["steps"]:
        items = "".join(f"<li>{_e(s)}</li>" for s in article["steps"])
        parts.append(f'<h5>{_e(words["steps"])}</h5><ol data-test="steps">{items}</ol>')
    if article["areas"]:
        areas = words["sep"].join(article["areas"])
        parts.append(f'<p class="areas">{_e(words["areas"])}{_e(areas)}</p>')
    return "".join(parts)


def _limits(limits: Sequence[Mapping[str, Any]]) -> str:
    return "".join(
        f'<div data-stage="{_e(limit["stage"])}"><dt>{_e(limit["label"])}</dt>'
        f"<dd>{_e(limit['text'])}</dd></div>"
        for limit in limits
    )


def _service(item: Mapping[str, Any], words: Mapping[str, str]) -> str:
    urgent = ""
    if item["urgent_time_limits"]:
        texts = " / ".join(f"{u['label']} {u['text']}" for u in item["urgent_time_limits"])
        urgent = f'<p class="urgent"><b>{_e(words["urgent"])}</b> {_e(texts)}</p>'
    guides = "".join(
        f'<div class="guide" data-test="guide" data-id="{g["id"]}"><h4>{_e(g["title"])}</h4>'
        f"{_article_details(g, words)}</div>"
        for g in item["guides"]
    )
    # 投诉 is a complaint: a kind that repeats the name is not said twice.
    kind = "" if item["kind_name"] == item["name"] else _tag(item["kind_name"])
    return (
        f'<article class="service" id="item-{_e(item["code"])}" data-test="service" '
        f'data-code="{_e(item["code"])}"><h3>{_e(item["name"])} {kind}</h3>'
        f'<dl class="limits">{_limits(item["time_limits"])}</dl>{urgent}{guides}</article>'
    )


def _services(groups: Sequence[Mapping[str, Any]], words: Mapping[str, str]) -> str:
    chips = "".join(
        f'<li><a href="#item-{_e(i["code"])}">{_e(i["name"])}</a></li>'
        for group in groups
        for i in group["items"]
    )
    parts = [f'<p class="note">{_e(words["limits_note"])}</p><ul class="chips">{chips}</ul>']
    for group in groups:
        parts.append(f'<h3 class="domain">{_e(group["domain_name"])}</h3>')
        parts.extend(_service(item, words) for item in group["items"])
    return "".join(parts)


def _questions(questions: Sequence[Mapping[str, Any]], words: Mapping[str, str]) -> str:
    if not questions:
        return f'<p class="none">{_e(words["no_questions"])}</p>'
    return "".join(
        f'<article class="question" data-test="question" data-id="{q["id"]}">'
        f"<h3>{_e(q['title'])} {'' if q['kind'] == 'faq' else _tag(q['kind_name'])}</h3>"
        f"{_article_details(q, words)}</article>"
        for q in questions
    )


def _contact(guide: Mapping[str, Any], words: Mapping[str, str]) -> str:
    hours = "".join(f"<li>{_e(text)}</li>" for text in guide["hours"].values())
    rows = "".join(
        f'<tr><th scope="row">{_e(h["name"])}</th>'
        f'<td><a href="tel:{_e(h["number"])}">{_e(h["number"])}</a></td></tr>'
        for h in guide["hotlines"]
    )
    return (
        f'<ul class="hours">{hours}</ul><h3>{_e(words["hotlines"])}</h3>'
        f'<table class="numbers">{rows}</table>'
        f'<p class="report"><a href="/report">{_e(words["report"])}</a></p>'
    )


def render(guide: Mapping[str, Any], language: Language) -> str:
    """A hotline's guide page."""
    words = LABELS[language]
    hotline = guide["hotline"]
    title = words["title"].format(name=hotline["name"], number=hotline["number"])
    nav = "".join(
        f'<a href="#{ident}">{_e(words[ident])}</a>'
        for ident in ("outages", "services", "questions", "contact")
    )
    header = (
        f'<h1>{_e(hotline["name"])} <span class="number">{_e(hotline["number"])}</span></h1>'
        f'<p class="lead">{_e(guide["hours"]["calls"])}</p>'
        f'<a class="call" href="tel:{_e(hotline["number"])}">'
        f"{_e(words['call'].format(number=hotline['number']))}</a>"
        f'<nav class="toc">{nav}</nav>'
    )
    main = "".join(
        (
            _section("outages", words["outages"], _outages(guide["outages"], words)),
            _section("services", words["services"], _services(guide["services"], words)),
            _section("questions", words["questions"], _questions(guide["questions"], words)),
            _section("contact", words["contact"], _contact(guide, words)),
        )
    )
    return _shell(
        language,
        title=title,
        path=f"/guide/{hotline['code']}",
        header=header,
        main=main,
        footer=_e(words["footer"]),
    )


def render_index(
    hotlines: Sequence[Mapping[str, Any]], language: Language, *, missing: str | None = None
) -> str:
    """The list of hotlines' guides; with ``missing``, the answer to an unknown one."""
    words = LABELS[language]
    query = "?lang=en" if language == "en" else ""
    links = "".join(
        f'<li><a data-test="hotline" href="/guide/{_e(h["code"])}{query}">'
        f'<span class="number">{_e(h["number"])}</span> {_e(h["name"])}</a></li>'
        for h in hotlines
    )
    intro = words["not_found"].format(code=missing) if missing is not None else words["index_intro"]
    return _shell(
        language,
        title=words["index_title"],
        path="/guide",
        header=f'<h1>{_e(words["index_title"])}</h1><p class="lead">{_e(intro)}</p>',
        main=f'<ul class="hotlines">{links}</ul>',
        footer=_e(words["footer"]),
    )
