"""Case types are declared once: the registry, declarations in a file, and a sixth type that
a temporary configuration adds (one declaration + one diagram) running its whole loop."""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.db import unit_of_work
from engine.runtime import Runtime
from tests.conftest import ROOT
from workflows.cases.models import Case
from workflows.cases.type_files import check_diagrams, load_case_types
from workflows.cases.types import (
    BUILTIN,
    CaseType,
    CaseTypeError,
    CaseTypes,
)
from workflows.errors import DomainError, FormInvalid
from workflows.hotline import install
from workflows.policy.service import get_policy, policy_data
from workflows.seed import seed_demo_city, seed_reference
from workflows.simulation import Simulation

from .conftest import TZ, City
from .test_scenarios import call_back, dispatch, reply, sign

#: a sixth case type, as a deployment would declare it (docs/case-types.md)
PETITION = """\
# 信访: run by a copy of the suggestion diagram
[[case_type]]
code = "petition"
process = "petition"
diagram = "petition.bpmn"
label_zh = "信访"
label_en = "Petition"
open311_group_zh = "信访类"
open311_group_en = "Petitions"
share = 3

[case_type.policy]
sign = { value = 1, unit = "workdays" }
reply = { value = 7, unit = "workdays" }
return = { value = 2, unit = "workdays" }
callback_required = true
review_required = false

[case_type.policy.urgent]
reply = { value = 12, unit = "hours" }
"""


def declare_petition(directory: Path, text: str = PETITION) -> Path:
    """Write the declaration and its diagram (the suggestion diagram under another process
    id) into ``directory``; the declaration file's path."""
    diagram = (ROOT / "bpmn" / "suggestion.bpmn").read_text(encoding="utf-8")
    for old, new in (
        ('processRef="suggestion"', 'processRef="petition"'),
        ('<bpmn:process id="suggestion"', '<bpmn:process id="petition"'),
    ):
        assert old in diagram
        diagram = diagram.replace(old, new)
    (directory / "petition.bpmn").write_text(diagram, encoding="utf-8")
    path = directory / "case_types.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_documented_example_is_the_one_tested():
    doc = (ROOT / "docs" / "case-types.md").read_text(encoding="utf-8")
    assert textwrap.dedent(doc.split("```toml\n")[1].split("```")[0]) == PETITION


# -- the registry ----------------------------------------------------------------------------


def test_the_built_in_types_in_the_intake_forms_order_with_both_labels():
    assert BUILTIN.codes() == [
        "complaint",
        "report",
        "consultation",
        "help",
        "suggestion",
        "praise",
    ]
    assert BUILTIN.options("zh")[0] == {"value": "complaint", "label": "投诉"}
    assert BUILTIN.labels("en")["report"] == "Report (tip-off)"
    assert BUILTIN["help"].process == "help_request"
    assert BUILTIN["praise"].process == BUILTIN["suggestion"].process
    assert CaseType.COMPLAINT == "complaint" and [str(t) for t in CaseType] == BUILTIN.codes()
    # a case of a type no longer declared keeps showing its code
    assert BUILTIN.label("retired", "zh") == "retired"
    with pytest.raises(LookupError, match="'petition' is not a case type"):
        BUILTIN["petition"]


def test_a_file_adds_types_after_the_built_in_ones_with_their_policy(tmp_path):
    types = load_case_types(declare_petition(tmp_path))
    assert types.codes() == [*BUILTIN.codes(), "petition"]
    petition = types["petition"]
    assert (petition.label("zh"), petition.label("en")) == ("信访", "Petition")
    assert petition.diagram == tmp_path / "petition.bpmn"
    assert types.diagrams() == [tmp_path / "petition.bpmn"]
    assert types.mix()["petition"] == 3 and types.mix()["complaint"] == 35
    rows = {row["urgency"]: row for row in petition.policy_rows()}
    assert (rows["normal"]["reply_value"], rows["normal"]["reply_unit"]) == (7, "workdays")
    assert rows["normal"]["callback_required"] and not rows["normal"]["review_required"]
    # urgent: the declared override; critical: the hours every type has
    assert (rows["urgent"]["reply_value"], rows["urgent"]["reply_unit"]) == (12, "hours")
    assert (rows["urgent"]["sign_value"], rows["urgent"]["sign_unit"]) == (2, "hours")
    assert (rows["critical"]["reply_value"], rows["critical"]["reply_unit"]) == (2, "hours")
    assert rows["critical"]["callback_required"]
    check_diagrams(types, ROOT / "bpmn")
    assert load_case_types(None) is BUILTIN and load_case_types("") is BUILTIN


def test_a_file_sets_every_tasks_clock_and_the_callback_attempts(tmp_path):
    clocks = """\
dispatch = { value = 4, unit = "workhours" }
review = { value = 2, unit = "workdays" }
callback = { value = 5, unit = "workdays" }
callback_span = { value = 3, unit = "workdays" }
supervision = { value = 1, unit = "workdays" }
cohandle = { value = 2, unit = "workdays" }
suspension_max = { value = 60, unit = "days" }
callback_attempts = 4
"""
    text = PETITION.replace("review_required = false\n", "review_required = false\n" + clocks)
    text += 'review = { value = 3, unit = "hours" }\n'  # under [case_type.policy.urgent]
    rows = {
        r["urgency"]: r
        for r in load_case_types(declare_petition(tmp_path, text))["petition"].policy_rows()
    }
    normal = rows["normal"]
    assert (normal["dispatch_value"], normal["dispatch_unit"]) == (4, "workhours")
    assert (normal["review_value"], normal["callback_value"]) == (2, 5)
    assert (normal["callback_span_value"], normal["supervision_value"]) == (3, 1)
    assert (normal["cohandle_value"], normal["suspension_max_value"]) == (2, 60)
    assert normal["suspension_max_unit"] == "days" and normal["callback_attempts"] == 4
    assert (rows["urgent"]["review_value"], rows["urgent"]["review_unit"]) == (3, "hours")
    assert rows["urgent"]["callback_attempts"] == 4  # what all urgencies share
    # a clock is a limit like the others: refused with its field named
    bad = PETITION.replace(
        "review_required = false\n",
        'review_required = false\ncohandle = { value = 0, unit = "days" }\n',
    )
    with pytest.raises(CaseTypeError, match=r"policy\.cohandle: \(0, 'days'\) is not a limit"):
        load_case_types(declare_petition(tmp_path, bad))


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('code = "petition"', 'code = "complaint"', "code: 'complaint' is declared twice"),
        ('code = "petition"', 'code = "Petition!"', "code: 'Petition!' is not a code"),
        ('label_en = "Petition"\n', "", "'petition': label_en: missing"),
        ('label_zh = "信访"', 'label_zh = " "', "label_zh: missing: give a non-empty text"),
        ("share = 3", "shares = 3", "shares: unknown field"),
        ("share = 3", "share = -1", "share: -1 is not a number >= 0"),
        (
            'unit = "workdays" }\ncallback',
            'unit = "weeks" }\ncallback',
            "policy.return: (2, 'weeks')",
        ),
        ('reply = { value = 7, unit = "workdays" }', "reply = 7", "policy.reply: give { value"),
        ('sign = { value = 1, unit = "workdays" }\n', "", "policy.sign: missing"),
        ("callback_required = true", 'callback_required = "yes"', "policy.callback_required:"),
        ("[case_type.policy.urgent]", "[case_type.policy.urgnet]", "policy.urgnet: unknown field"),
        ("reply = { value = 12", "replies = { value = 12", "policy.urgent.replies: unknown field"),
        (
            'reply = { value = 12, unit = "hours" }',
            'reply = { value = 0, unit = "hours" }',
            "policy.urgent.reply: (0, 'hours') is not a limit",
        ),
        ('diagram = "petition.bpmn"', "diagram = 3", "diagram: give the path of a BPMN file"),
        ("[[case_type]]", "[[case_types]]", "case_types: unknown; declare [[case_type]] tables"),
        ("[[case_type]]", "[[case_type", "not valid TOML"),
    ],
)
def test_a_bad_declaration_is_refused_naming_its_field(tmp_path, old, new, message):
    assert old in PETITION
    path = declare_petition(tmp_path, PETITION.replace(old, new))
    with pytest.raises(CaseTypeError) as refused:
        load_case_types(path)
    assert message in str(refused.value)
    assert str(path) in str(refused.value)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            'process = "petition"',
            'process = "petiton"',
            "process: {dir}/petition.bpmn has no executable process with id 'petiton' (it has petition)",
        ),
        (
            'diagram = "petition.bpmn"\n',
            "",
            "process: no diagram in {bpmn} has an executable process with id 'petition'",
        ),
        (
            'diagram = "petition.bpmn"',
            'diagram = "missing.bpmn"',
            "diagram: cannot read {dir}/missing.bpmn",
        ),
    ],
)
def test_a_type_whose_diagram_is_not_there_is_refused_at_start_up(tmp_path, old, new, message):
    types = load_case_types(declare_petition(tmp_path, PETITION.replace(old, new)))
    with pytest.raises(CaseTypeError) as refused:
        check_diagrams(types, ROOT / "bpmn")
    assert message.format(dir=tmp_path, bpmn=ROOT / "bpmn") in str(refused.value)


def test_declarations_in_code_are_checked_as_those_in_a_file():
    complaint = BUILTIN["complaint"]
    with pytest.raises(
        CaseTypeError, match="built-in: case type 'complaint': code: 'complaint' is declared twice"
    ):
        BUILTIN.extended([complaint])
    with pytest.raises(CaseTypeError, match="case type 'x': label_zh: missing"):
        CaseTypes([dataclasses.replace(complaint, code="x", label_zh="")])
    normal_only = {"normal": complaint.policies["normal"]}
    with pytest.raises(CaseTypeError, match="case type 'x': policy.urgent: missing"):
        CaseTypes([dataclasses.replace(complaint, code="x", policies=normal_only)])


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(CaseTypeError, match="missing.toml: cannot read the case types file"):
        load_case_types(tmp_path / "missing.toml")


# -- a sixth type through the domain -------------------------------------------------------


def hotline_with(case_types, database, clock, mode, *, deploy=True):
    runtime = Runtime(clock=clock, tz=TZ, workflow_cache_size=2000 if mode == "straight" else 0)
    hotline = install(
        runtime,
        clock=clock,
        tz=TZ,
        forms_dir=ROOT / "forms",
        session_factory=database.session,
        calendar_ttl=3600,
        case_types=case_types,
    )
    session = database.session()
    with unit_of_work(session):
        seed_reference(session, clock=clock, years=[2026, 2027], case_types=case_types)
        seed_demo_city(session, clock=clock)
    for path in case_types.diagrams() if deploy else []:
        runtime.deploy(
            session,
            path.read_bytes(),
            path.name,
            deployed_by="tests",
            form_exists=hotline.forms.exists,
        )
    session.close()
    return hotline


@pytest.fixture
def petition_city(database, clock, mode, tmp_path):
    types = load_case_types(declare_petition(tmp_path))
    session = database.session()
    yield City(hotline_with(types, database, clock, mode), session)
    session.close()


def test_a_declared_type_closes_its_loop_as_declared(petition_city):
    city = petition_city
    case = city.intake(case_type="petition", category="物业管理")
    c = city.case(case)
    assert (c.case_type, c.status) == ("petition", "awaiting_dispatch")
    assert c.policy["reply"] == {"value": 7, "unit": "workdays"} and c.callback_required
    dispatch(city, case, "B-HU")
    sign(city, case, "h_hu")
    reply(city, case, "h_hu")
    # declared: no review of the reply, a callback
    assert city.case(case).status == "awaiting_callback"
    call_back(city, case)
    c = city.case(case)
    assert (c.status, c.outcome) == ("closed", "handled")
    urgent = policy_data(get_policy(city.session, case_type="petition", urgency="urgent"))
    assert urgent["reply"] == {"value": 12, "unit": "hours"}


def test_an_undeclared_type_is_a_form_error_not_a_key_error(city):
    with pytest.raises(FormInvalid) as refused:
        city.intake(case_type="petition")
    assert set(refused.value.errors) == {"case_type"}


@pytest.mark.parametrize("mode", ["straight"])
def test_a_declared_type_whose_diagram_is_not_deployed_says_what_to_do(
    database, clock, mode, tmp_path
):
    types = load_case_types(declare_petition(tmp_path))
    hotline = hotline_with(types, database, clock, mode, deploy=False)
    city = City(hotline, database.session())
    with pytest.raises(DomainError, match="'petition' runs the diagram 'petition'.*hotline init"):
        city.intake(case_type="petition")
    city.session.close()


@pytest.mark.parametrize("mode", ["straight"])
def test_the_simulator_files_calls_of_the_declared_types(database, clock, mode, tmp_path):
    petition = load_case_types(declare_petition(tmp_path))["petition"]
    hotline = hotline_with(CaseTypes([petition]), database, clock, mode)
    report = Simulation(hotline, database.session, seed=3).run(cases=6, days=2)
    assert report.cases == 6
    with database.session() as session:
        assert set(session.scalars(select(Case.case_type))) == {"petition"}
