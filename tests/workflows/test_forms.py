"""Task forms: loading form-js files, validating submissions, localized errors, hiding."""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from marshmallow import Schema, ValidationError
from werkzeug.datastructures import MultiDict

from workflows.forms import FeelError, Form, FormError, FormNotFound, FormRegistry
from workflows.forms.feel import Condition
from workflows.forms.messages import MESSAGES

FIXTURES = Path(__file__).parent / "fixtures" / "forms"
SHANGHAI = ZoneInfo("Asia/Shanghai")
DEPARTMENTS = {
    "departments": [{"label": "市场监管局", "value": "D01"}, {"label": "住建局", "value": "D02"}]
}


@pytest.fixture(scope="module")
def registry() -> FormRegistry:
    return FormRegistry(FIXTURES)


@pytest.fixture(scope="module")
def everything(registry) -> Form:
    return registry.get("sample/all_types")


def make_form(*components: dict, key: str = "test/form", **top) -> Form:
    return Form(key, {"type": "default", "components": list(components), **top})


def errors_of(form: Form, data, *, lang: str = "zh", context=None) -> dict[str, list[str]]:
    clean, errors = form.validate(data, context=context, lang=lang)
    assert errors, "expected errors"
    assert clean == {}
    return errors


def clean_of(form: Form, data, *, context=None) -> dict:
    clean, errors = form.validate(data, context=context)
    assert errors == {}
    return clean


# -- the registry ----------------------------------------------------------------------------


def test_registry_lists_checks_and_caches_forms(registry):
    assert registry.keys() == [
        "sample/all_types",
        "sample/conditions",
        "sample/dispatch",
        "sample/sign_for",
    ]
    assert registry.check_all() == []
    assert registry.exists("sample/sign_for")
    assert not registry.exists("sample/nothing")
    form = registry.get("sample/sign_for")
    assert form.key == "sample/sign_for"
    assert registry.get("sample/sign_for") is form


def test_a_missing_form_is_not_found(registry):
    with pytest.raises(FormNotFound) as info:
        registry.get("sample/nothing")
    assert info.value.file == "sample/nothing.json"
    assert isinstance(info.value, LookupError)


@pytest.mark.parametrize(
    "key",
    [
        "../fixtures/forms/sample/sign_for",
        "sample/../sample/sign_for",
        "/etc/passwd",
        "sample\\sign_for",
        "sample/sign_for.json",
        "sample//sign_for",
        "sample/./sign_for",
        "sample/sign_for/",
        "%2e%2e/sample/sign_for",
        "sample/sign for",
        "sample/sign_for\x00",
        "",
        "a" * 300,
        None,
    ],
)
def test_keys_cannot_leave_the_forms_directory(registry, key):
    assert not registry.exists(key)
    with pytest.raises(FormNotFound):
        registry.get(key)


def test_a_symlink_out_of_the_forms_directory_is_refused(tmp_path):
    outside = tmp_path / "outside.json"
    shutil.copy(FIXTURES / "sample" / "sign_for.json", outside)
    forms = tmp_path / "forms"
    forms.mkdir()
    (forms / "leak.json").symlink_to(outside)
    registry = FormRegistry(forms)
    assert not registry.exists("leak")
    with pytest.raises(FormNotFound):
        registry.get("leak")


def _write(path: Path, document: dict, *, mtime_ns: int) -> None:
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    os.utime(path, ns=(mtime_ns, mtime_ns))


def test_a_form_is_reloaded_when_its_file_changes(tmp_path):
    document = json.loads((FIXTURES / "sample" / "sign_for.json").read_text(encoding="utf-8"))
    path = tmp_path / "sign_for.json"
    _write(path, document, mtime_ns=1_700_000_000_000_000_000)
    registry = FormRegistry(tmp_path)
    first = registry.get("sign_for")
    assert first.title("zh") == "签收"
    assert registry.get("sign_for") is first

    document["properties"]["title"] = "签收（新）"
    _write(path, document, mtime_ns=1_700_000_001_000_000_000)
    second = registry.get("sign_for")
    assert second is not first
    assert second.title("zh") == "签收（新）"

    path.write_text("{ not json", encoding="utf-8")
    os.utime(path, ns=(1_700_000_002_000_000_000,) * 2)
    with pytest.raises(FormError):
        registry.get("sign_for")  # never the cached, older good version
    assert [e.file for e in registry.check_all()] == ["sign_for.json"]


# -- titles, fields, description ---------------------------------------------------------------


def test_titles_and_their_fallbacks(registry):
    form = registry.get("sample/sign_for")
    assert form.title() == "签收"
    assert form.title("en") == "Sign for"
    assert form.title("en-US") == "Sign for"
    assert registry.get("sample/dispatch").title("en") == "派单"  # no English: Chinese
    assert registry.get("sample/all_types").title("en") == "sample/all_types"  # none: the key


def test_fields_are_the_input_components_only(everything):
    keys = [field["key"] for field in everything.fields]
    assert keys[:3] == ["name", "code", "email"]
    assert len(keys) == 19
    assert everything.fields[0].get("type") == "textfield"
    with pytest.raises(TypeError):
        everything.fields[0]["key"] = "changed"  # type: ignore[index]


def test_describe_in_both_languages(registry):
    form = registry.get("sample/sign_for")
    zh = form.describe()
    assert zh["title"] == "签收"
    action, reason, phone = zh["fields"]
    assert action == {
        "key": "action",
        "type": "radio",
        "label": "处理",
        "description": "",
        "required": True,
        "options": [{"value": "sign", "label": "签收"}, {"value": "return", "label": "退单"}],
        "default": "sign",
    }
    assert reason["hide"] == '=action != "return"'
    assert reason["description"] == "非本单位职责或辖区，请说明应由哪个单位办理"
    assert reason["minLength"] == 5 and reason["maxLength"] == 2000
    assert phone["validationType"] == "phone" and phone["required"] is False

    en = form.describe("en")
    assert en["title"] == "Sign for"
    assert [f["label"] for f in en["fields"]] == ["Action", "Reason for return", "Handler's phone"]
    assert en["fields"][0]["options"][1] == {"value": "return", "label": "Return"}
    assert en["fields"][1]["description"].startswith("Not our area")
    json.dumps(en)


def test_describe_takes_dynamic_options_from_the_context(registry):
    form = registry.get("sample/dispatch")
    lead = form.describe("en")["fields"][0]
    assert lead["options"] is None and lead["valuesKey"] == "departments"
    lead = form.describe("zh", context=DEPARTMENTS)["fields"][0]
    assert lead["options"] == [
        {"value": "D01", "label": "市场监管局"},
        {"value": "D02", "label": "住建局"},
    ]
    assert form.describe()["fields"][2]["subtype"] == "datetime"


def test_labels_fall_back_to_chinese_then_to_the_key(everything):
    fields = {f["key"]: f for f in everything.describe("en")["fields"]}
    assert fields["name"]["label"] == "Name"
    assert fields["code"]["label"] == "编号"
    assert fields["color"]["options"] == [
        {"value": "red", "label": "Red"},
        {"value": "green", "label": "Green"},
    ]
    assert fields["size"]["options"][0] == {"value": "s", "label": "小"}
    nameless = make_form({"type": "textfield", "key": "plain"})
    assert nameless.describe("en")["fields"][0]["label"] == "plain"


# -- text --------------------------------------------------------------------------------------


def test_text_is_stripped_and_checked(everything):
    clean = clean_of(everything, {"name": "  张三 ", "agree": True})
    assert clean["name"] == "张三"
    assert errors_of(everything, {"agree": True}) == {"name": ["此项为必填项"]}
    assert errors_of(everything, {"name": "   ", "agree": True}) == {"name": ["此项为必填项"]}
    assert errors_of(everything, {"name": " 张 ", "agree": True}) == {"name": ["至少输入 2 个字符"]}
    assert errors_of(everything, {"name": "张" * 11, "agree": True}) == {
        "name": ["最多 10 字，现在 11 字"]
    }
    assert errors_of(everything, {"name": 12, "agree": True}) == {"name": ["请输入文本"]}


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("AB123", True),
        ("XY999", True),
        ("AB1234", False),
        ("xAB123", False),
        ("ab123", False),
        ("AB１２３", False),  # full-width digits: \d is ASCII, as in JavaScript
    ],
)
def test_pattern_must_match_the_whole_value(everything, value, ok):
    _, errors = everything.validate({"name": "张三", "agree": True, "code": value})
    assert (errors == {}) is ok
    if not ok:
        assert errors == {"code": ["格式不正确"]}


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("wang@example.com", True),
        ("a.b+c@mail.gov.cn", True),
        ("a@b", False),
        ("a b@example.com", False),
        ("@example.com", False),
        ("wang@", False),
    ],
)
def test_email(everything, value, ok):
    _, errors = everything.validate({"name": "张三", "agree": True, "email": value})
    assert (errors == {}) is ok
    if not ok:
        assert errors == {"email": ["请输入有效的电子邮箱地址"]}


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("13800138000", True),
        ("19912345678", True),
        ("+8613800138000", True),
        ("138 0013 8000", True),
        ("+86 139 0223 1234", True),
        ("139-0223-1234", True),
        ("0086 139 0223 1234", True),
        ("(0750) 1234567", True),
        ("0750-1234567", True),
        ("07501234567", True),
        ("010-12345678", True),
        ("0750-1234567-801", True),
        ("3501234", True),
        ("12345", True),
        ("95598", True),
        ("12800138000", False),
        ("1380013800", False),
        ("138001380001", False),
        ("123", False),
        ("0750-123", False),
        ("phone", False),
        ("0750—1234567", False),
    ],
)
def test_phone(everything, value, ok):
    _, errors = everything.validate({"name": "张三", "agree": True, "phone": value})
    assert (errors == {}) is ok
    if not ok:
        assert errors == {"phone": ["请输入有效的电话号码"]}


def test_textarea_and_empty_optional_text(everything):
    clean = clean_of(everything, {"name": "张三", "agree": True, "note": "", "code": None})
    assert clean["note"] == "" and clean["code"] == ""
    assert errors_of(everything, {"name": "张三", "agree": True, "note": "字" * 21}) == {
        "note": ["最多 20 字，现在 21 字"]
    }


# -- numbers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("count", 3, 3),
        ("count", "3", 3),
        ("count", " 7 ", 7),
        ("count", 4.0, 4),
        ("count", "5.0", 5),
        ("count", "2.5", 2.5),
        ("count", 2.5, 2.5),
        ("amount", "3", 3.0),
        ("amount", 3, 3.0),
        ("amount", "2.50", 2.5),
        ("amount", "0.75", 0.75),
        ("whole", "4", 4),
        ("whole", -2, -2),
        ("count", "", None),
        ("count", None, None),
    ],
)
def test_numbers_are_read(everything, field, value, expected):
    clean = clean_of(everything, {"name": "张三", "agree": True, field: value})
    assert clean[field] == expected
    assert type(clean[field]) is type(expected)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("count", "abc", "请输入数字"),
        ("count", True, "请输入数字"),
        ("count", "nan", "请输入数字"),
        ("count", "inf", "请输入数字"),
        ("count", float("nan"), "请输入数字"),
        ("count", [1], "请输入数字"),
        ("count", "1e3", "请输入数字"),
        ("count", "1_000", "请输入数字"),
        ("count", 0, "不能小于 1"),
        ("count", "11", "不能大于 10"),
        ("count", 10.5, "不能大于 10"),
        ("amount", "0.25", "不能小于 0.5"),
        ("amount", 1000.01, "不能大于 1000"),
        ("amount", "1.234", "最多保留 2 位小数"),
        ("whole", "2.5", "请输入整数"),
    ],
)
def test_bad_numbers(everything, field, value, message):
    assert errors_of(everything, {"name": "张三", "agree": True, field: value}) == {
        field: [message]
    }


# -- choices -----------------------------------------------------------------------------------


def test_select_and_radio_take_one_of_their_options(everything):
    clean = clean_of(everything, {"name": "张三", "agree": True, "color": "green", "size": "l"})
    assert clean["color"] == "green" and clean["size"] == "l"
    assert clean_of(everything, {"name": "张三", "agree": True, "level": "2"})["level"] == 2
    assert clean_of(everything, {"name": "张三", "agree": True, "color": ""})["color"] is None
    for value in ("blue", "Red", ["red"], {"value": "red"}, True):
        assert errors_of(everything, {"name": "张三", "agree": True, "color": value}) == {
            "color": ["请从选项中选择"]
        }
    assert errors_of(everything, {"name": "张三", "agree": True, "size": "xl"}, lang="en") == {
        "size": ["Choose one of the options."]
    }


def test_checklist_takes_a_list_of_options(everything):
    clean = clean_of(everything, {"name": "张三", "agree": True, "tags": ["c", "a", "c"]})
    assert clean["tags"] == ["c", "a"]
    assert clean_of(everything, {"name": "张三", "agree": True, "tags": []})["tags"] == []
    assert errors_of(everything, {"name": "张三", "agree": True, "tags": ["a", "x", "y"]}) == {
        "tags": ["以下值不在选项中：x、y"]
    }
    assert errors_of(everything, {"name": "张三", "agree": True, "tags": ["x"]}, lang="en") == {
        "tags": ["Not among the options: x."]
    }
    for value in ("a", {"a": 1}, [["a"]], [None]):
        assert errors_of(everything, {"name": "张三", "agree": True, "tags": value}) == {
            "tags": ["请选择一个或多个选项"]
        }


def test_a_required_list_needs_one_value():
    form = make_form(
        {
            "type": "checklist",
            "key": "tags",
            "validate": {"required": True},
            "values": [{"label": "甲", "value": "a"}],
        }
    )
    assert errors_of(form, {"tags": []}) == {"tags": ["此项为必填项"]}
    assert errors_of(form, {}) == {"tags": ["此项为必填项"]}
    assert clean_of(form, {"tags": ["a"]}) == {"tags": ["a"]}


def test_an_html_form_repeats_a_checklist_key(everything):
    data = MultiDict(
        [("name", "张三"), ("agree", "on"), ("tags", "a"), ("tags", "b"), ("count", "2")]
    )
    clean = clean_of(everything, data)
    assert clean["tags"] == ["a", "b"] and clean["count"] == 2 and clean["agree"] is True


def test_values_key_options_come_from_the_context(registry, everything):
    form = registry.get("sample/dispatch")
    clean = clean_of(
        form, {"lead_department": "D01", "co_departments": ["D02"]}, context=DEPARTMENTS
    )
    assert clean == {"lead_department": "D01", "co_departments": ["D02"]}
    assert errors_of(
        form, {"lead_department": "D09", "co_departments": ["D01", "D08"]}, context=DEPARTMENTS
    ) == {"lead_department": ["请从选项中选择"], "co_departments": ["以下值不在选项中：D08"]}
    plain = {"departments": ["D01", "D02"]}
    assert clean_of(form, {"lead_department": "D02"}, context=plain) == {"lead_department": "D02"}
    assert clean_of(
        everything, {"name": "张三", "agree": True, "units": ["D01"]}, context=DEPARTMENTS
    )["units"] == ["D01"]


def test_a_values_key_default_is_checked_when_validating():
    form = make_form(
        {"type": "select", "key": "d", "valuesKey": "departments", "defaultValue": "D02"}
    )
    assert clean_of(form, {}, context=DEPARTMENTS) == {"d": "D02"}
    assert errors_of(form, {}, context={"departments": []}) == {"d": ["请从选项中选择"]}


def test_a_context_without_the_options_is_the_callers_bug(registry):
    form = registry.get("sample/dispatch")
    with pytest.raises(LookupError, match="departments"):
        form.validate({"lead_department": "D01"})
    # not looked up when nothing needs checking
    assert form.validate({"lead_department": ""})[1] == {"lead_department": ["此项为必填项"]}


# -- checkbox ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        ("true", True),
        ("false", False),
        ("on", True),
        ("off", False),
        ("1", True),
        ("0", False),
        (1, True),
        (0, False),
        ("TRUE", True),
        (None, False),
        ("", False),
    ],
)
def test_checkbox_values(everything, value, expected):
    assert (
        clean_of(everything, {"name": "张三", "agree": True, "urgent": value})["urgent"] is expected
    )


@pytest.mark.parametrize("value", ["maybe", "yes", 2, 1.5, [True]])
def test_bad_checkbox_values(everything, value):
    assert errors_of(everything, {"name": "张三", "agree": True, "urgent": value}) == {
        "urgent": ["请选择是或否"]
    }


def test_a_required_checkbox_must_be_ticked(everything):
    for value in (False, "0", None):
        assert errors_of(everything, {"name": "张三", "agree": value}) == {
            "agree": ["此项为必填项"]
        }
    assert errors_of(everything, {"name": "张三"}) == {"agree": ["此项为必填项"]}


# -- dates and times ---------------------------------------------------------------------------


def test_datetimes_are_aware(everything):
    base = {"name": "张三", "agree": True}
    when = clean_of(everything, {**base, "when": "2024-05-01T10:00"})["when"]
    assert when == datetime(2024, 5, 1, 10, 0, tzinfo=SHANGHAI)
    assert when.utcoffset() == timedelta(hours=8)
    when = clean_of(everything, {**base, "when": "2024-05-01T02:00:00Z"})["when"]
    assert when == datetime(2024, 5, 1, 10, 0, tzinfo=SHANGHAI)
    assert when.tzinfo is UTC
    when = clean_of(everything, {**base, "when": "2024-05-01 10:00:30+02:00"})["when"]
    assert when.utcoffset() == timedelta(hours=2)
    naive = datetime(2024, 5, 1, 10, 0)
    assert clean_of(everything, {**base, "when": naive})["when"].tzinfo is SHANGHAI


@pytest.mark.parametrize("tz", ["UTC", ZoneInfo("UTC")])
def test_naive_datetimes_are_read_in_the_context_time_zone(everything, tz):
    clean, errors = everything.validate(
        {"name": "张三", "agree": True, "when": "2024-05-01T10:00"}, context={"tz": tz}
    )
    assert errors == {}
    assert clean["when"] == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)


def test_dates_and_times(everything):
    base = {"name": "张三", "agree": True}
    clean = clean_of(
        everything, {**base, "day": "2024-05-01", "at": "10:30", "plain": "2024-02-29"}
    )
    assert clean["day"] == date(2024, 5, 1)
    assert clean["at"] == time(10, 30)
    assert clean["plain"] == date(2024, 2, 29)  # form-js's default subtype is date
    at = clean_of(everything, {**base, "at": "10:30+08:00"})["at"]
    assert at == time(10, 30, tzinfo=timezone(timedelta(hours=8)))
    assert clean_of(everything, {**base, "day": date(2024, 1, 2)})["day"] == date(2024, 1, 2)
    assert clean_of(everything, {**base, "day": ""})["day"] is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("when", "2024-05-01", "请输入有效的日期和时间"),
        ("when", "yesterday", "请输入有效的日期和时间"),
        ("when", "2024-13-01T10:00", "请输入有效的日期和时间"),
        ("when", 1714528800, "请输入有效的日期和时间"),
        ("day", "2024-02-30", "请输入有效的日期"),
        ("day", "2024-05-01T10:00", "请输入有效的日期"),
        ("day", "20240501", "请输入有效的日期"),
        ("day", datetime(2024, 5, 1), "请输入有效的日期"),
        ("at", "25:00", "请输入有效的时间"),
        ("at", "10", "请输入有效的时间"),
    ],
)
def test_bad_dates(everything, field, value, message):
    assert errors_of(everything, {"name": "张三", "agree": True, field: value}) == {
        field: [message]
    }


# -- defaults, unknown keys, the schema --------------------------------------------------------


def test_defaults_fill_absent_fields_only(everything):
    clean = clean_of(everything, {"name": "张三", "agree": True})
    assert clean == {"name": "张三", "agree": True, "size": "m", "urgent": False}
    assert clean_of(everything, {"name": "张三", "agree": True, "size": ""})["size"] is None


def test_an_empty_default_on_a_required_field_still_needs_input():
    form = make_form(
        {"type": "checkbox", "key": "ok", "defaultValue": False, "validate": {"required": True}},
        {"type": "textfield", "key": "t", "defaultValue": "", "validate": {"required": True}},
    )
    assert errors_of(form, {}) == {"ok": ["此项为必填项"], "t": ["此项为必填项"]}
    assert clean_of(form, {"ok": True, "t": "x"}) == {"ok": True, "t": "x"}


def test_unknown_keys_are_errors_on_that_key(everything):
    data = {"name": "张三", "agree": True, "case_id": 7, "__class__": "x"}
    assert errors_of(everything, data) == {
        "case_id": ["表单中没有此项"],
        "__class__": ["表单中没有此项"],
    }
    assert errors_of(everything, data, lang="en")["case_id"] == ["This form has no such field."]


@pytest.mark.parametrize("data", [[], "name=张三", None, 3])
def test_a_submission_must_be_an_object(everything, data):
    assert errors_of(everything, data) == {"_schema": ["提交的数据格式不正确"]}


def test_schema_is_a_marshmallow_schema(registry):
    form = registry.get("sample/dispatch")
    schema = form.schema(DEPARTMENTS, lang="en")
    assert isinstance(schema, Schema)
    assert schema.load({"lead_department": "D01"}) == {"lead_department": "D01"}
    with pytest.raises(ValidationError) as info:
        schema.load({"co_departments": ["D03"]})
    assert info.value.messages == {
        "lead_department": ["This field is required."],
        "co_departments": ["Not among the options: D03."],
    }


def test_a_form_key_named_like_a_schema_attribute_is_fine():
    form = make_form(
        {"type": "textfield", "key": "load"},
        {"type": "textfield", "key": "fields"},
        {"type": "textfield", "key": "Meta"},
    )
    assert clean_of(form, {"load": "a", "fields": "b", "Meta": "c"}) == {
        "load": "a",
        "fields": "b",
        "Meta": "c",
    }


# -- hiding ------------------------------------------------------------------------------------


def test_hidden_fields_are_neither_required_nor_kept(registry):
    form = registry.get("sample/sign_for")
    assert clean_of(form, {}) == {"action": "sign"}
    assert clean_of(form, {"action": "sign", "return_reason": "不管它"}) == {"action": "sign"}
    assert errors_of(form, {"action": "return"}) == {"return_reason": ["此项为必填项"]}
    assert errors_of(form, {"action": "return", "return_reason": "不是"}, lang="en") == {
        "return_reason": ["Enter at least 5 characters."]
    }
    assert clean_of(form, {"action": "return", "return_reason": "应由住建局办理"}) == {
        "action": "return",
        "return_reason": "应由住建局办理",
    }


def test_conditions_see_typed_values_and_defaults(registry):
    form = registry.get("sample/conditions")
    assert clean_of(form, {"satisfaction": "satisfied"}) == {
        "satisfaction": "satisfied",
        "score": 5,
    }
    # score defaults to 5, so reopen stays hidden
    assert clean_of(
        form, {"satisfaction": "unsatisfied", "complaint": "没人来", "reopen": True}
    ) == {"satisfaction": "unsatisfied", "score": 5, "complaint": "没人来"}
    # a numeric string from an HTML form compares as a number
    data = {"satisfaction": "unsatisfied", "complaint": "没人来", "score": "1", "reopen": "on"}
    assert errors_of(form, data) == {"reopen_note": ["此项为必填项"]}
    data["reopen"] = "false"
    assert clean_of(form, data) == {
        "satisfaction": "unsatisfied",
        "score": 1,
        "complaint": "没人来",
        "reopen": False,
    }
    # unanswered satisfaction: complaint hidden (null != "unsatisfied"), the rest required
    assert errors_of(form, {}) == {"satisfaction": ["此项为必填项"]}


def test_conditions_read_hidden_fields_values_too_as_form_js_does():
    form = make_form(
        {"type": "checkbox", "key": "a", "conditional": {"hide": "=true"}},
        {
            "type": "textfield",
            "key": "b",
            "validate": {"required": True},
            "conditional": {"hide": "=a != true"},
        },
    )
    assert errors_of(form, {"a": True}) == {"b": ["此项为必填项"]}
    assert clean_of(form, {"a": True, "b": "x"}) == {"b": "x"}
    assert clean_of(form, {}) == {}


@pytest.mark.parametrize(
    ("expression", "values", "expected"),
    [
        ('=a = "x"', {"a": "x"}, True),
        ('=a = "x"', {"a": "y"}, False),
        ('=a != "x"', {}, True),
        ("=a = null", {}, True),
        ("=a = null", {"a": ""}, True),
        ("=a = null", {"a": []}, True),
        ("=a = null", {"a": 0}, False),
        ("=a != null", {"a": False}, True),
        ("=n > 3", {"n": 4}, True),
        ("=n > 3", {"n": 3}, False),
        ("=n >= 3", {"n": 3}, True),
        ("=n < 3.5", {"n": 3}, True),
        ("=n <= -1", {"n": -1}, True),
        ("=n > 3", {}, False),
        ("=n > 3", {"n": "4"}, False),
        ('=n = "1"', {"n": 1}, False),
        ('=s < "b"', {"s": "a"}, True),
        ("=f = true", {"f": True}, True),
        ("=f = 1", {"f": True}, False),
        ("=f", {"f": True}, True),
        ("=f", {"f": "yes"}, False),
        ("=not(f)", {"f": False}, True),
        ("=not(f)", {}, False),
        ('=a = "x" and n > 1', {"a": "x", "n": 2}, True),
        ('=a = "x" and n > 1', {"a": "x"}, False),
        ('=a = "x" or n > 1', {"n": 2}, True),
        ("=n > 1 or f", {"f": True}, True),
        ("=n > 1 or f", {"n": 0}, False),
        ('=not(a = "x" or a = "y") and (n = 1 or n = 2)', {"a": "z", "n": 2}, True),
        ('=a = "say \\"hi\\"\\n"', {"a": 'say "hi"\n'}, True),
        ('=a = "\\u4e2d"', {"a": "中"}, True),
        ("=true", {}, True),
        ("=null", {}, False),
    ],
)
def test_feel_subset(expression, values, expected):
    assert Condition.parse(expression).is_true(values) is expected


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ('a = "x"', "starting with '='"),
        ("=", "empty"),
        ("=   ", "empty"),
        ("=a =", "ends too early"),
        ("=(a = 1", "ends too early"),
        ("=a = 1)", "unexpected ')'"),
        ("=a == 1", "unexpected '='"),
        ("=1 < a < 3", "chained"),
        ('="abc', "unterminated string"),
        ('="a\\q"', "unknown escape"),
        ("=a.b = 1", "unexpected '.'"),
        ("=a in [1, 2]", "unexpected 'in'"),
        ("=not a", "not(...)"),
        ('=contains(a, "x")', "function contains()"),
        ('=__import__("os").system("ls")', "function __import__()"),
        ("=a = 'x'", 'unexpected "\'"'),
        ("=- a", "unexpected 'a'"),
        ("=a and", "ends too early"),
        ("=" + "(" * 40 + "a" + ")" * 40, "deeper than"),
        ("=a = 1" * 500, "longer than"),
    ],
)
def test_feel_outside_the_subset_is_refused(expression, problem):
    with pytest.raises(FeelError, match=None) as info:
        Condition.parse(expression)
    assert problem in str(info.value)


# -- localized messages ------------------------------------------------------------------------


def test_every_error_is_ours_in_the_language_asked(everything):
    bad = {
        "name": "",
        "code": "x",
        "email": "x",
        "phone": "x",
        "note": "x" * 30,
        "count": "x",
        "amount": "9.999",
        "whole": "1.5",
        "color": "x",
        "level": 9,
        "agree": False,
        "urgent": "x",
        "tags": ["x"],
        "units": "x",
        "when": "x",
        "day": "x",
        "at": "x",
        "plain": "x",
        "other": 1,
    }
    zh = errors_of(everything, bad, context=DEPARTMENTS)
    en = errors_of(everything, bad, lang="en", context=DEPARTMENTS)
    assert set(zh) == set(en) == set(bad) - {"size"}
    templates_zh = {pair[0].split("{")[0] for pair in MESSAGES.values()}
    templates_en = {pair[1].split("{")[0] for pair in MESSAGES.values()}
    for key in zh:
        assert any(zh[key][0].startswith(t) for t in templates_zh), zh[key]
        assert any(en[key][0].startswith(t) for t in templates_en), en[key]
        assert zh[key] != en[key]
    assert en["name"] == ["This field is required."]
    assert en["whole"] == ["Enter a whole number."]
    assert en["amount"] == ["Use at most 2 decimal places."]


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("zh", "此项为必填项"),
        ("zh-CN", "此项为必填项"),
        ("fr", "此项为必填项"),
        ("", "此项为必填项"),
        ("en", "This field is required."),
        ("en-GB", "This field is required."),
        ("EN_us", "This field is required."),
    ],
)
def test_language_tags(everything, lang, expected):
    assert errors_of(everything, {"agree": True}, lang=lang) == {"name": [expected]}


def test_missing_required_field_message_is_not_marshmallows():
    form = make_form({"type": "number", "key": "n", "validate": {"required": True}})
    for lang, text in (("zh", "此项为必填项"), ("en", "This field is required.")):
        assert errors_of(form, {}, lang=lang) == {"n": [text]}
        assert errors_of(form, {"n": None}, lang=lang) == {"n": [text]}


# -- malformed forms ---------------------------------------------------------------------------

TEXT = {"type": "textfield", "key": "t", "label": "文本"}
RADIO = {"type": "radio", "key": "r", "values": [{"label": "甲", "value": "a"}]}

BAD_FORMS = [
    ([], "a form is a JSON object"),
    ({"type": "default"}, '"components" list'),
    ({"type": "form", "components": []}, 'is not "default"'),
    ({"components": ["x"]}, "a component is a JSON object"),
    ({"components": [{"type": "slider", "key": "s"}]}, "unknown component type 'slider'"),
    ({"components": [{"key": "s"}]}, "unknown component type None"),
    ({"components": [{"type": "group", "components": [TEXT]}]}, "'group' is not supported"),
    ({"components": [{"type": "dynamiclist", "path": "x"}]}, "'dynamiclist' is not supported"),
    ({"components": [{"type": "filepicker", "key": "f"}]}, "'filepicker' is not supported"),
    ({"components": [TEXT, {**TEXT, "label": "again"}]}, "key 't' is also used"),
    ({"components": [{"type": "textfield"}]}, "needs a key"),
    ({"components": [{**TEXT, "key": "a.b"}]}, "nested keys"),
    ({"components": [{**TEXT, "key": "1st"}]}, "not starting with a digit"),
    ({"components": [{**TEXT, "conditional": {"hide": "=t =="}}]}, "conditional.hide"),
    ({"components": [{**TEXT, "conditional": {"hide": "t = 1"}}]}, "starting with '='"),
    ({"components": [{**TEXT, "conditional": {"hide": "=other = 1"}}]}, "not a field"),
    ({"components": [{**TEXT, "conditional": "=t = 1"}]}, "conditional must be an object"),
    ({"components": [{**TEXT, "validate": {"pattern": "[a-"}}]}, "not a valid regular"),
    ({"components": [{**TEXT, "validate": {"pattern": "(?<name>x)"}}]}, "not a valid regular"),
    ({"components": [{**TEXT, "validate": {"maxlength": 3}}]}, "unknown validate rule"),
    ({"components": [{**TEXT, "validate": {"min": 3}}]}, "does not apply to textfield"),
    ({"components": [{**TEXT, "validate": {"minLength": -1}}]}, "whole number >= 0"),
    ({"components": [{**TEXT, "validate": {"minLength": "=n"}}]}, "expressions are not"),
    ({"components": [{**TEXT, "validate": {"required": "yes"}}]}, "true or false"),
    ({"components": [{**TEXT, "validate": {"validationType": "url"}}]}, "not email or phone"),
    (
        {"components": [{"type": "number", "key": "n", "validate": {"max": "lots"}}]},
        "must be a number",
    ),
    ({"components": [{"type": "number", "key": "n", "decimalDigits": -1}]}, "decimalDigits"),
    ({"components": [{"type": "select", "key": "s"}]}, "values list or a valuesKey"),
    ({"components": [{**RADIO, "valuesKey": "x"}]}, "not both"),
    (
        {"components": [{**RADIO, "values": [{"label": "甲", "value": "a"}, {"value": "a"}]}]},
        "appears twice",
    ),
    ({"components": [{**RADIO, "values": [{"label": "甲", "value": 1.5}]}]}, "needs a string"),
    ({"components": [{**RADIO, "valuesExpression": "=opts"}]}, "valuesExpression"),
    ({"components": [{**RADIO, "defaultValue": "b"}]}, "defaultValue 'b' is not valid"),
    (
        {"components": [{"type": "number", "key": "n", "defaultValue": "many"}]},
        "defaultValue 'many'",
    ),
    ({"components": [{"type": "datetime", "key": "d", "subtype": "week"}]}, "subtype 'week'"),
    ({"components": [{**TEXT, "properties": {"en": 3}}]}, "properties must map"),
    ({"properties": ["x"], "components": []}, "properties must map"),
]


@pytest.mark.parametrize(("document", "problem"), BAD_FORMS)
def test_bad_forms_are_refused_naming_the_file(tmp_path, document, problem):
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "form.json").write_text(json.dumps(document), encoding="utf-8")
    registry = FormRegistry(tmp_path)
    with pytest.raises(FormError) as info:
        registry.get("bad/form")
    assert info.value.file == "bad/form.json"
    assert problem in info.value.message
    assert str(info.value).startswith("bad/form.json")
    assert [str(e) for e in registry.check_all()] == [str(info.value)]


def test_a_located_error_names_the_component(tmp_path):
    document = {"components": [TEXT, {"type": "slider", "id": "Field_1abc"}]}
    with pytest.raises(FormError) as info:
        Form("x", document, file="x.json")
    assert info.value.component == "Field_1abc"
    assert str(info.value) == "x.json: Field_1abc: unknown component type 'slider'"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{ not json", "not valid JSON (line 1, column 3)"),
        ('{"components": []', "not valid JSON"),
        ('{"components": [], "components": []}', "appears twice"),
        (
            '{"components": [{"type": "number", "key": "n", "defaultValue": NaN}]}',
            "NaN is not JSON",
        ),
        ("", "not valid JSON"),
        ("[" * 100_000 + "]" * 100_000, "not valid JSON"),
    ],
)
def test_bad_json_is_refused_naming_the_file(tmp_path, text, problem):
    (tmp_path / "broken.json").write_text(text, encoding="utf-8")
    with pytest.raises(FormError) as info:
        FormRegistry(tmp_path).get("broken")
    assert info.value.file == "broken.json"
    assert problem in info.value.message


def test_check_all_reports_every_bad_form(tmp_path):
    shutil.copytree(FIXTURES, tmp_path, dirs_exist_ok=True)
    (tmp_path / "bad.json").write_text("{", encoding="utf-8")
    (tmp_path / "sample" / "worse.json").write_text(
        json.dumps({"components": [{"type": "group"}]}), encoding="utf-8"
    )
    (tmp_path / "not a key.json").write_text("{", encoding="utf-8")  # not reachable by key
    registry = FormRegistry(tmp_path)
    assert [e.file for e in registry.check_all()] == ["bad.json", "sample/worse.json"]
    keys = registry.keys()
    assert "not a key" not in keys and "bad" in keys


def test_an_oversized_form_file_is_refused(tmp_path):
    (tmp_path / "huge.json").write_text(
        json.dumps({"components": [], "padding": "x" * 1_000_001}), encoding="utf-8"
    )
    with pytest.raises(FormError, match="larger than"):
        FormRegistry(tmp_path).get("huge")


def test_a_missing_forms_directory_has_no_forms(tmp_path):
    registry = FormRegistry(tmp_path / "nowhere")
    assert registry.keys() == [] and registry.check_all() == []
    assert not registry.exists("a")
