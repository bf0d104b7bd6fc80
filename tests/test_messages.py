"""Every text the server gives a person has its Chinese, and the language follows the
request: the catalogue is complete for the code as written (found by reading the code,
so a new error cannot forget its translation), and the API answers in Chinese by
default and in English on request."""

from __future__ import annotations

import ast
import json
import re
import string
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from aiohttp import ClientSession

from hotline import i18n
from hotline.errors import NotFound
from tests.factories import log_in, make_user

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = [
    "hotline",
    "web",
    "routing",
    "integrations",
    "callbacks",
    "reports",
    "agents_ui",
    "wiring",
]
ERRORS = {
    "DomainError",
    "NotFound",
    "Conflict",
    "InvalidInput",
    "NotAuthenticated",
    "Forbidden",
    "TooManyRequests",
    "IllegalTransition",
}


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _texts(call: ast.Call) -> Iterator[tuple[ast.expr, str]]:
    """The arguments of a call that a person reads: an error's message and its fields'
    messages, ``BadRequest``'s message, ``error_response``'s message, a ``Text``."""
    name = _name(call.func)
    if (name in ERRORS and call.args) or name == "Text":
        yield call.args[0], "message"
    elif name == "BadRequest" and len(call.args) > 1:
        yield call.args[1], "message"
    elif name == "error_response" and len(call.args) > 3:
        yield call.args[3], "message"
    else:
        return
    for keyword in call.keywords:
        if keyword.arg == "fields" and isinstance(keyword.value, ast.Dict):
            for value in keyword.value.values:
                yield value, "field"


def _validator_errors(function: ast.FunctionDef) -> Iterator[ast.expr]:
    """The messages of the ``ValueError``s a pydantic validator raises: pydantic hands
    them to the client as the field's message."""
    decorators = {_name(d.func if isinstance(d, ast.Call) else d) for d in function.decorator_list}
    if decorators & {"field_validator", "model_validator"}:
        for node in ast.walk(function):
            raised = node.exc if isinstance(node, ast.Raise) else None
            if isinstance(raised, ast.Call) and _name(raised.func) == "ValueError" and raised.args:
                yield raised.args[0]


def _calls() -> Iterator[tuple[str, ast.expr]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(), str(path))
            for node in ast.walk(tree):
                texts: list[ast.expr] = []
                if isinstance(node, ast.Call):
                    texts = [arg for arg, _ in _texts(node)]
                elif isinstance(node, ast.FunctionDef):
                    texts = list(_validator_errors(node))
                elif isinstance(node, ast.Assign):
                    # A field's message set apart: fields["area"] = "unknown area".
                    targets = [t for t in node.targets if isinstance(t, ast.Subscript)]
                    if any(_name(t.value) in {"fields", "bad"} for t in targets):
                        texts = [node.value]
                for arg in texts:
                    yield f"{path.relative_to(ROOT)}:{arg.lineno}", arg


def test_every_message_in_the_code_is_a_template_with_its_chinese() -> None:
    missing, formatted = [], []
    for where, arg in _calls():
        if isinstance(arg, ast.JoinedStr | ast.BinOp):
            formatted.append(where)
        elif isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            words = string.Formatter().format(arg.value, **dict.fromkeys(_fields(arg.value), ""))
            if words and i18n.CATALOGUE.get(arg.value) is None:
                missing.append(f"{where}: {arg.value!r}")
    assert not formatted, "f-strings cannot be translated; give a template and its values"
    assert not missing, "no Chinese for:\n" + "\n".join(missing)


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_each_translation_has_the_same_placeholders_and_chinese_punctuation() -> None:
    for english, chinese in i18n.CATALOGUE.items():
        assert _fields(english) == _fields(chinese), english
        # Chinese texts take Chinese punctuation (a comma or colon between words).
        assert not re.search(r"[\u4e00-\u9fff][,:;]", chinese), chinese
    for kind, chinese in i18n.VALIDATION.items():
        assert not re.search(r"[\u4e00-\u9fff][,:;]", chinese), kind


def test_a_domain_error_reads_in_either_language() -> None:
    error = NotFound("order {order_id} not found", order_id=7)
    assert error.message == "order 7 not found"
    assert error.text("en") == "order 7 not found"
    assert error.text("zh-CN") == "工单 7 不存在"


def test_a_stored_text_reads_in_either_language_after_a_round_trip() -> None:
    """A routing reason as stored (JSON) and read back: names, terms and nested texts
    each in the reader's language."""
    reason = i18n.Text(
        "Rule {rule}: {scope} → {unit}",
        rule=3,
        scope=i18n.Text(
            "{what} ({where})",
            what=i18n.Text("{domain} items", domain=i18n.Term("water")),
            where=i18n.Name("市南区", "Shinan District"),
        ),
        unit=i18n.Name("青岛水务集团", "Qingdao Water Group"),
    )
    stored = i18n.store_texts({"reason": reason, "enterprise_id": 5})
    assert stored["reason"] == "规则 3：供水类事项（市南区） → 青岛水务集团"
    english = i18n.render_texts(json.loads(json.dumps(stored)), i18n.ENGLISH)
    assert english == {
        "reason": "Rule 3: water items (Shinan District) → Qingdao Water Group",
        "enterprise_id": 5,
    }
    tries = i18n.Text(
        "{count} attempts, the last: {outcome}", count=3, outcome=i18n.Term("no-answer")
    )
    assert (tries.render("zh-CN"), str(tries)) == (
        "已回访 3 次，最后一次：无人接听",
        "3 attempts, the last: no answer",
    )


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "zh-CN"),
        ("", "zh-CN"),
        ("en", "en"),
        ("en-US,en;q=0.9", "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
        ("fr-FR, en;q=0.5", "en"),
        ("de", "zh-CN"),
        ("en;q=0.2, zh;q=0.8", "zh-CN"),
    ],
)
def test_the_language_is_negotiated_from_the_header(header: str | None, language: str) -> None:
    assert i18n.negotiate(header) == language


async def test_the_api_answers_in_chinese_unless_english_is_asked_for(
    client: ClientSession, pool: asyncpg.Pool
) -> None:
    async with pool.acquire() as conn:
        username, _ = await make_user(conn, "agent")
    csrf = {"X-CSRF-Token": await log_in(client, username)}

    missing = await client.get("/api/v1/orders/987654321")
    assert missing.status == 404
    assert (await missing.json())["error"]["message"] == "工单 987654321 不存在"
    english = await client.get("/api/v1/orders/987654321", headers={"Accept-Language": "en"})
    assert (await english.json())["error"]["message"] == "order 987654321 not found"

    # Validation: pydantic's messages by their type, the field named as sent.
    body = {"hotline": "96111", "description": "x" * 5000}
    refused = await client.post("/api/v1/orders", json=body, headers=csrf)
    assert refused.status == 422
    error = (await refused.json())["error"]
    assert error["message"] == "部分字段填写有误"
    assert error["fields"]["description"] == "最多 4000 个字符"
    headers = {**csrf, "Accept-Language": "en-GB,en;q=0.9"}
    english = await (await client.post("/api/v1/orders", json=body, headers=headers)).json()
    assert english["error"]["fields"]["description"] == "String should have at most 4000 characters"


async def test_a_failed_login_says_why_in_the_language_asked_for(client: ClientSession) -> None:
    body = {"username": "nobody-here", "password": "wrong-password"}
    chinese = await client.post("/api/v1/auth/login", json=body)
    assert (await chinese.json())["error"]["message"] == "用户名或密码错误"
    english = await client.post("/api/v1/auth/login", json=body, headers={"Accept-Language": "en"})
    assert (await english.json())["error"]["message"] == "wrong username or password"


def _spoken_strings(tree: ast.AST) -> Iterator[str]:
    """String constants that are not docstrings (an expression statement of its own)."""
    docstrings = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
        ):
            yield node.value


def test_chinese_texts_in_the_code_use_chinese_punctuation() -> None:
    """What citizens hear and read (prompts, SMS) and what the centre reads (notices,
    reasons): 签收超时，催办, not 签收超时,催办."""
    ascii_beside_chinese = re.compile(r"[\u4e00-\u9fff][,:;()]|[,;(][\u4e00-\u9fff]")
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for text in _spoken_strings(ast.parse(path.read_text(), str(path))):
                # English with a Chinese gloss ("Sign for (签收)") keeps English marks.
                chinese = len(re.findall(r"[\u4e00-\u9fff]", text))
                english = len(re.findall(r"[A-Za-z]", text))
                if chinese > english and ascii_beside_chinese.search(text):
                    found.append(f"{path.relative_to(ROOT)}: {text}")
    assert not found, "\n".join(found)
