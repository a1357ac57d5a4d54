"""Reporter confidentiality in the domain: the masking, who is the centre, the flag at intake,
the phone search and a caller's earlier cases, and the view log."""

import pytest
from sqlalchemy import select

from engine.db import unit_of_work
from workflows.cases.confidentiality import (
    caller_identity,
    is_centre,
    mask_name,
    mask_phone,
    record_views,
    views_of,
)
from workflows.cases.models import IdentityView
from workflows.cases.search import CaseFilters, search_cases
from workflows.cases.service import earlier_cases_by_phone
from workflows.departments.models import Department

from .conftest import TZ
from .test_scenarios import dispatch


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三丰", "张**"),
        ("张三", "张**"),  # one mask length: the name's length is not told
        ("张", "**"),  # a surname alone is all mask
        ("张先生", "张**"),
        ("欧阳娜娜", "欧阳**"),  # compound surnames stay whole
        ("司马光", "司马**"),
        ("欧阳", "欧**"),  # two characters: the given name would be the second
        ("诸葛亮", "诸葛**"),
        ("  李四  ", "李**"),
        ("John Smith", "J**"),
        ("", ""),
        (None, ""),
    ],
)
def test_names_keep_only_the_surname(name, masked):
    assert mask_name(name) == masked


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13800138000", "138****8000"),  # a mobile: first three, last four
        ("19912345678", "199****5678"),
        ("07501234567", "0750****67"),  # a landline: area code and last two
        ("02012345678", "020****78"),  # three-digit area codes (010, 02x)
        ("01087654321", "010****21"),
        ("07501234567-123", "0750****67-****"),  # an extension is masked too
        ("12345", "****"),  # short numbers are all mask
        ("110", "****"),
        ("9558800", "95****00"),  # anything else of seven or more: first and last two
        ("+442071234567", "+4****67"),
        ("", ""),
        (None, ""),
    ],
)
def test_phones_keep_only_what_identifies_no_one(phone, masked):
    assert mask_phone(phone) == masked


def test_masks_reveal_no_more_than_they_keep():
    for phone in ("13800138000", "07501234567", "9558800"):
        shown = mask_phone(phone)
        assert phone not in shown and "****" in shown


def test_the_centre_roles_and_the_departments(city):
    s = city.session
    centre = {"op1", "disp1", "sup1", "cb1", "lead1", "admin"}
    departments = {"h_mr", "centre1", "disp_pj", "h_bs"}
    for username in centre | departments:
        user = city.user(username)
        department = s.get(Department, user.department_id)
        assert is_centre(user, department) is (username in centre), username


def test_reports_are_confidential_and_others_when_asked(city):
    report = city.case(city.intake(case_type="report"))
    asked = city.case(city.intake(confidential=True))
    plain = city.case(city.intake())
    assert (report.confidential, asked.confidential, plain.confidential) == (True, True, False)
    shown = caller_identity(asked, centre=False)
    assert (shown.name, shown.phone, shown.masked) == ("张**", "138****8000", True)
    full = caller_identity(asked, centre=True)
    assert (full.name, full.phone, full.masked, full.confidential) == (
        "张三",
        "13800138000",
        False,
        True,
    )
    # a case the caller did not ask to hide: a department's handler sees the contact in full on
    # its task page (the task needs it), masked elsewhere but revealable; the asked one never
    task = caller_identity(plain, centre=False, role="handler", surface="task")
    assert task.phone == "13800138000"
    page = caller_identity(plain, centre=False, role="handler")
    assert (page.phone, page.masked, page.revealable) == ("138****8000", True, True)
    assert caller_identity(asked, centre=False, role="handler", surface="task").masked
    assert not caller_identity(asked, centre=False, role="handler").revealable


def test_the_checkbox_reads_open311_style_values(city):
    assert city.case(city.intake(confidential="true")).confidential is True
    assert city.case(city.intake(confidential="false")).confidential is False


def test_a_department_cannot_find_a_confidential_case_by_the_callers_phone(city):
    hidden = city.intake(confidential=True, caller_phone="13911112222")
    shown = city.intake(caller_phone="13911112222")
    for case in (hidden, shown):
        dispatch(city, case, "B-MR")
    s = city.session

    def found(username, phone="1391111"):
        user = city.user(username)
        stmt = search_cases(s, user, CaseFilters(phone=phone), tz=TZ)
        return {c.number for c in s.scalars(stmt)}

    assert found("h_mr") == {shown.number}
    assert found("sup1") == {shown.number, hidden.number}
    assert found("disp1") == {shown.number, hidden.number}
    # without the phone, the department still sees its confidential case (masked)
    user = city.user("h_mr")
    everything = {c.number for c in s.scalars(search_cases(s, user, CaseFilters(), tz=TZ))}
    assert hidden.number in everything
    # nor among a caller's earlier cases
    assert [c.number for c in earlier_cases_by_phone(s, phone="13911112222", user=user)] == [
        shown.number
    ]
    op = city.user("op1")
    assert {c.number for c in earlier_cases_by_phone(s, phone="13911112222", user=op)} == {
        hidden.number,
        shown.number,
    }


def test_views_are_recorded_with_who_when_and_where(city):
    case = city.case(city.intake(case_type="report"))
    s = city.session
    with unit_of_work(s):
        record_views(
            s,
            case_ids=[case.id, case.id],
            user=city.user("sup1"),
            channel="page",
            path=f"/cases/{case.number}",
            now=city.clock.now(),
        )
    rows = views_of(s, case_id=case.id)
    assert [(v.username, v.role, v.channel, v.viewed_at) for v in rows] == [
        ("sup1", "supervisor", "page", city.clock.now())
    ]
    with pytest.raises(ValueError):
        record_views(s, case_ids=[case.id], user=city.user("sup1"), channel="x", path="", now=0)
    s.rollback()
    assert len(s.scalars(select(IdentityView)).all()) == 1


def test_a_case_type_declares_whether_its_callers_are_hidden(tmp_path):
    from workflows.cases.type_files import load_case_types
    from workflows.cases.types import BUILTIN, CaseTypeError

    from .test_case_types import PETITION, declare_petition

    assert [t.code for t in BUILTIN if t.confidential] == ["report"]
    hidden = PETITION.replace("share = 3\n", "share = 3\nconfidential = true\n")
    assert load_case_types(declare_petition(tmp_path, hidden))["petition"].confidential is True
    assert load_case_types(declare_petition(tmp_path))["petition"].confidential is False
    bad = PETITION.replace("share = 3\n", 'share = 3\nconfidential = "yes"\n')
    with pytest.raises(CaseTypeError, match="confidential: 'yes' is not true or false"):
        load_case_types(declare_petition(tmp_path, bad))
