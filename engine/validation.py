"""Validation of a BPMN document before anything is stored.

Every problem comes back as an :class:`~engine.errors.Issue` located as ``FILE:LINE: ELEMENT_ID:
message``. Checks run in layers (safe XML, BPMN namespace, XSD, structure, SpiffWorkflow's own
parse, then expressions, timers, scripts, forms and services) and a layer that fails stops the
ones after it, because their answers would be noise.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.spiff.parser.process import SPIFF_XSD

from . import xmlsafe
from .clock import SystemClock
from .connectors import Connector, param_issues
from .errors import ExpressionError, Issue
from .expressions import Evaluator
from .spiff import BpmnParser, is_iso_literal, parse_cycle, parse_duration, time_functions

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}

#: Flow elements this engine executes. Anything else inside a process is refused by name.
SUPPORTED_FLOW_NODES = {
    "startEvent",
    "endEvent",
    "intermediateCatchEvent",
    "intermediateThrowEvent",
    "boundaryEvent",
    "task",
    "userTask",
    "manualTask",
    "scriptTask",
    "serviceTask",
    "sendTask",
    "receiveTask",
    "businessRuleTask",
    "subProcess",
    "transaction",
    "callActivity",
    "exclusiveGateway",
    "inclusiveGateway",
    "parallelGateway",
    "eventBasedGateway",
}
#: Elements that may appear in a process but are not flow nodes.
OTHER_PROCESS_CHILDREN = {
    "sequenceFlow",
    "laneSet",
    "documentation",
    "extensionElements",
    "dataObject",
    "dataObjectReference",
    "dataStoreReference",
    "textAnnotation",
    "association",
    "group",
    "ioSpecification",
    "property",
    "incoming",
    "outgoing",
    "auditing",
    "monitoring",
    "category",
}
UNSUPPORTED_HINTS = {
    "complexGateway": "use exclusive or inclusive gateways with conditions",
    "adHocSubProcess": "model the optional steps explicitly",
}

_LOOKS_ISO = re.compile(r"^(-?P[0-9T]|R\d*/|\d{4}-\d{2}-\d{2})")

FormExists = Callable[[str], bool]
#: a check of an extension property's value: why the value is wrong, or None when it is fine
PropertyCheck = Callable[[str], str | None]


@dataclass
class UserTaskInfo:
    element_id: str
    name: str
    lane: str | None
    form_key: str | None


@dataclass
class ProcessInfo:
    """One executable process in a validated document."""

    key: str
    name: str
    spec: Any
    subprocess_specs: dict[str, Any]
    user_tasks: dict[str, UserTaskInfo] = field(default_factory=dict)


@dataclass
class ValidationResult:
    file: str
    issues: list[Issue]
    processes: dict[str, ProcessInfo]
    tree: etree._ElementTree | None = None

    @property
    def ok(self) -> bool:
        return not self.issues


_validator_lock = threading.Lock()
_validator: BpmnValidator | None = None


def _xsd() -> BpmnValidator:
    """The XSD validator costs ~6 ms to build: build it once per process."""
    global _validator
    with _validator_lock:
        if _validator is None:
            _validator = BpmnValidator(imports={"spiffworkflow": SPIFF_XSD})
        return _validator


class _Located:
    def __init__(self, file: str, tree: etree._ElementTree) -> None:
        self.file = file
        self.tree = tree
        self._by_id: dict[str, etree._Element] | None = None

    def element(self, element_id: str | None) -> etree._Element | None:
        if not element_id:
            return None
        if self._by_id is None:
            self._by_id = {}
            for el in self.tree.iter():
                if isinstance(el.tag, str) and el.get("id") is not None:
                    self._by_id.setdefault(el.get("id"), el)
        return self._by_id.get(element_id)

    def issue(self, element_id: str | None, message: str, line: int | None = None) -> Issue:
        if line is None:
            el = self.element(element_id)
            line = el.sourceline if el is not None else None
        return Issue(self.file, line, element_id or None, message)

    def at(self, node: etree._Element, message: str) -> Issue:
        return Issue(self.file, node.sourceline, node.get("id"), message)


def _local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def validate_bytes(
    data: bytes,
    file: str,
    *,
    evaluator: Evaluator | None = None,
    form_exists: FormExists | None = None,
    services: Iterable[str] | None = None,
    property_checks: Mapping[str, PropertyCheck] | None = None,
    connectors: Mapping[str, Connector] | None = None,
    max_bytes: int = xmlsafe.DEFAULT_MAX_BYTES,
) -> ValidationResult:
    """Validate one BPMN document. Never raises for bad input: problems are issues.

    ``property_checks``: extension property name -> check of its value, for the properties
    the caller gives a meaning to (the engine gives none beyond formKey and candidateGroups).
    ``connectors``: the connectors service tasks may name besides ``services``; their
    parameters are checked (unknown, missing, and what each connector checks of literals).
    """
    try:
        tree = xmlsafe.parse_bytes(data, max_bytes=max_bytes)
    except xmlsafe.UnsafeXml as exc:
        return ValidationResult(
            file, [Issue(file, exc.problem.line, None, exc.problem.message)], {}
        )
    try:
        evaluator = evaluator or Evaluator(time_functions(SystemClock()))
        return _validate_tree(
            tree, file, evaluator, form_exists, services, property_checks, connectors
        )
    except RecursionError:
        return ValidationResult(file, [Issue(file, 1, None, "document is nested too deeply")], {})


def validate_file(path: str, **kwargs: Any) -> ValidationResult:
    """Validate a file on disk (size-checked before it is read)."""
    max_bytes = kwargs.get("max_bytes", xmlsafe.DEFAULT_MAX_BYTES)
    try:
        data = xmlsafe.read_limited(path, max_bytes)
    except xmlsafe.UnsafeXml as exc:
        return ValidationResult(path, [Issue(path, None, None, exc.problem.message)], {})
    except OSError as exc:
        return ValidationResult(
            path, [Issue(path, None, None, f"cannot read file: {exc.strerror}")], {}
        )
    return validate_bytes(data, path, **kwargs)


def _validate_tree(
    tree, file, evaluator, form_exists, services, property_checks=None, connectors=None
) -> ValidationResult:
    loc = _Located(file, tree)
    root = tree.getroot()
    if root.tag != full_tag("definitions"):
        return ValidationResult(
            file,
            [
                loc.at(
                    root,
                    f"not a BPMN 2.0 file: root element is <{_local(root.tag)}>, "
                    f"expected <definitions> in namespace {BPMN_NS}",
                )
            ],
            {},
        )

    issues = _xsd_issues(tree, loc)
    if issues:
        return ValidationResult(file, issues, {}, tree)

    processes = root.findall("bpmn:process", NS)
    if not processes:
        return ValidationResult(file, [loc.at(root, "file defines no process")], {}, tree)
    executable = [p for p in processes if p.get("isExecutable", "true") == "true"]
    if not executable:
        return ValidationResult(
            file,
            [
                loc.at(
                    p,
                    'process is not executable (isExecutable="false"): it was drawn as a '
                    "description for people, not for an engine; mark it executable and give "
                    "its tasks forms, conditions and timers to deploy it",
                )
                for p in processes
            ],
            {},
            tree,
        )

    issues = []
    for process in executable:
        issues.extend(_structure_issues(process, loc))
    if issues:
        return ValidationResult(file, issues, {}, tree)

    parser = BpmnParser()
    infos: dict[str, ProcessInfo] = {}
    try:
        parser.add_bpmn_xml(tree, filename=file)
    except ValidationException as exc:
        return ValidationResult(file, [_from_spiff(exc, loc)], {}, tree)
    for process in executable:
        key = process.get("id")
        try:
            spec = parser.get_spec(key)
            subprocess_specs = parser.get_subprocess_specs(key)
        except ValidationException as exc:
            issues.append(_from_spiff(exc, loc))
            continue
        except Exception as exc:  # SpiffWorkflow raised something unplanned: still located
            issues.append(loc.issue(key, f"cannot be parsed: {type(exc).__name__}: {exc}"))
            continue
        infos[key] = ProcessInfo(key, process.get("name") or key, spec, subprocess_specs)
    if issues:
        return ValidationResult(file, issues, {}, tree)

    service_names = set(services) if services is not None else None
    if connectors and service_names is None:
        service_names = set()
    connectors = connectors or {}
    if service_names is not None:
        service_names |= set(connectors)
    for info in infos.values():
        issues.extend(_semantic_issues(info, loc, evaluator, form_exists, service_names))
        issues.extend(_connector_issues(info, loc, connectors))
        if property_checks:
            issues.extend(_property_issues(info, loc, property_checks))
    for process in executable:
        issues.extend(_expression_issues(process, loc, evaluator))
    return ValidationResult(file, issues, infos if not issues else {}, tree)


def _xsd_issues(tree, loc: _Located) -> list[Issue]:
    validator = _xsd()
    validator.preprocess(tree)
    if validator.validator.validate(tree):
        return []
    issues = []
    for err in validator.validator.error_log:
        element_id = None
        for el in tree.iter():
            if isinstance(el.tag, str) and el.sourceline == err.line and el.get("id"):
                element_id = el.get("id")
                break
        message = err.message.replace(f"{{{BPMN_NS}}}", "bpmn:")
        issues.append(Issue(loc.file, err.line, element_id, f"schema: {message}"))
        if len(issues) >= 50:
            break
    return issues


def _structure_issues(process, loc: _Located) -> list[Issue]:
    issues: list[Issue] = []
    containers = [process, *process.iter(full_tag("subProcess"), full_tag("transaction"))]
    for container in containers:
        ids = {el.get("id") for el in container if isinstance(el.tag, str)}
        for child in container:
            name = _local(child.tag)
            if not name or child.tag.split("}")[0][1:] != BPMN_NS:
                continue
            if name not in SUPPORTED_FLOW_NODES and name not in OTHER_PROCESS_CHILDREN:
                hint = UNSUPPORTED_HINTS.get(name)
                issues.append(
                    loc.at(
                        child,
                        f"<{name}> is not supported by this engine" + (f": {hint}" if hint else ""),
                    )
                )
            if name == "sequenceFlow":
                for attr in ("sourceRef", "targetRef"):
                    ref = child.get(attr)
                    if ref not in ids:
                        issues.append(
                            loc.at(
                                child,
                                f"sequence flow {attr} {ref!r} names no element in this process",
                            )
                        )
        if container is process and container.find("bpmn:startEvent", NS) is None:
            issues.append(loc.at(process, "process has no start event"))
        issues.extend(_unreachable_issues(container, loc))
        for gateway in container.findall("bpmn:exclusiveGateway", NS) + container.findall(
            "bpmn:inclusiveGateway", NS
        ):
            outgoing = [
                f
                for f in container.findall("bpmn:sequenceFlow", NS)
                if f.get("sourceRef") == gateway.get("id")
            ]
            if len(outgoing) < 2:
                continue
            default = gateway.get("default")
            for flow in outgoing:
                if flow.get("id") != default and flow.find("bpmn:conditionExpression", NS) is None:
                    issues.append(
                        loc.at(
                            flow,
                            f"flow leaves gateway {gateway.get('id')!r} with no condition and is not "
                            "its default flow",
                        )
                    )
    return issues


#: flow nodes that start a path without an incoming sequence flow
_PATH_STARTS = {"startEvent", "boundaryEvent"}


def _unreachable_issues(container, loc: _Located) -> list[Issue]:
    """Flow nodes no sequence flow leads to. The parser follows flows from the start events
    and never even reads such an element, so without this check a task drawn but not
    connected (its form, its conditions) would pass validation and silently never run."""
    targets = {
        f.get("targetRef") for f in container.findall("bpmn:sequenceFlow", NS) if f.get("targetRef")
    }
    issues = []
    for child in container:
        name = _local(child.tag)
        if name not in SUPPORTED_FLOW_NODES or name in _PATH_STARTS:
            continue
        if child.get("id") in targets:
            continue
        if name in ("subProcess", "transaction") and child.get("triggeredByEvent") == "true":
            continue  # an event sub-process starts on its own event
        if child.get("isForCompensation") == "true":
            continue  # run by compensation, not by a flow
        if (
            name == "intermediateCatchEvent"
            and child.find("bpmn:linkEventDefinition", NS) is not None
        ):
            continue  # the catching end of a link
        issues.append(
            loc.at(
                child,
                f"<{name}> has no incoming sequence flow, so it can never run: connect it to "
                "the flow or delete it",
            )
        )
    return issues


_SPIFF_MESSAGES = [
    (
        re.compile(r"A Service Task must have an operator"),
        "service task has no operator: add spiffworkflow:serviceTaskOperator naming a registered "
        "service",
    ),
    (re.compile(r"<Element \{[^}]*\}(\w+) at 0x[0-9a-f]+>"), r"<\1>"),
]
_DATA_STORE = re.compile(r"Data Store with name (.+?) has no implementation", re.S)


def _from_spiff(exc: ValidationException, loc: _Located) -> Issue:
    line = exc.line_number if isinstance(exc.line_number, int) and exc.line_number else None
    message = " ".join(str(exc).split()).strip().rstrip(".")
    element_id = exc.id or None
    store = _DATA_STORE.search(message)
    if store and element_id is None:
        name = store.group(1)
        for el in loc.tree.iter(full_tag("dataStore")):
            if " ".join((el.get("name") or "").split()) == name:
                element_id = el.get("id")
                break
        message = (
            f"data store {name!r} has no implementation: this engine keeps case data in "
            "task data, so remove the data store or its associations"
        )
    for pattern, replacement in _SPIFF_MESSAGES:
        message = pattern.sub(replacement, message)
    return loc.issue(element_id, message, line)


def _all_task_specs(info: ProcessInfo):
    yield from info.spec.task_specs.values()
    for sub in info.subprocess_specs.values():
        yield from sub.task_specs.values()


def _semantic_issues(info, loc, evaluator, form_exists, service_names) -> list[Issue]:
    from SpiffWorkflow.bpmn.specs.mixins.service_task import ServiceTask
    from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask

    issues: list[Issue] = []
    for spec in _all_task_specs(info):
        if isinstance(spec, UserTask):
            props = (getattr(spec, "extensions", None) or {}).get("properties", {})
            form_key = props.get("formKey")
            info.user_tasks[spec.name] = UserTaskInfo(
                spec.name, spec.bpmn_name or spec.name, spec.lane, form_key
            )
            groups = props.get("candidateGroups")
            if groups:
                try:
                    evaluator.check_expression(groups)
                except ExpressionError as exc:
                    issues.append(loc.issue(spec.name, f"candidateGroups {exc}"))
            if form_exists is not None:
                if not form_key:
                    issues.append(
                        loc.issue(
                            spec.name,
                            'user task has no form: add <spiffworkflow:property name="formKey" '
                            'value="..."/> under extensionElements/spiffworkflow:properties',
                        )
                    )
                elif not form_exists(form_key):
                    issues.append(loc.issue(spec.name, f"form {form_key!r} does not exist"))
        if isinstance(spec, ServiceTask) and service_names is not None:
            name = getattr(spec, "operation_name", None)
            if name not in service_names:
                known = ", ".join(sorted(service_names)) or "none"
                issues.append(
                    loc.issue(
                        spec.name, f"service {name!r} is not registered (registered: {known})"
                    )
                )
            for pname, param in (getattr(spec, "operation_params", None) or {}).items():
                try:
                    evaluator.check_expression(param["value"])
                except ExpressionError as exc:
                    issues.append(loc.issue(spec.name, f"service parameter {pname!r}: {exc}"))
    return issues


def _connector_issues(
    info: ProcessInfo, loc: _Located, connectors: Mapping[str, Connector]
) -> list[Issue]:
    """The parameters of service tasks that name a connector, each issue on the line of its
    ``spiffworkflow:parameter`` (or of the operator when a parameter is missing)."""
    from SpiffWorkflow.bpmn.specs.mixins.service_task import ServiceTask

    issues: list[Issue] = []
    for spec in _all_task_specs(info):
        connector = connectors.get(getattr(spec, "operation_name", None) or "")
        if not isinstance(spec, ServiceTask) or connector is None:
            continue
        params = {name: p.get("value") or "" for name, p in (spec.operation_params or {}).items()}
        for pname, message in param_issues(connector, params):
            issues.append(
                loc.issue(
                    spec.name,
                    f"parameter {pname!r}: {message}" if pname else message,
                    _parameter_line(loc, spec.name, pname),
                )
            )
    return issues


def _parameter_line(loc: _Located, element_id: str, name: str | None) -> int | None:
    element = loc.element(element_id)
    if element is None:
        return None
    for node in element.iter(f"{{{SPIFF_NS}}}parameter"):
        if name is not None and node.get("id") == name:
            return node.sourceline
    for node in element.iter(f"{{{SPIFF_NS}}}serviceTaskOperator"):
        return node.sourceline
    return element.sourceline


def _property_issues(
    info: ProcessInfo, loc: _Located, checks: Mapping[str, PropertyCheck]
) -> list[Issue]:
    """Values of the extension properties the caller gave a meaning to, each located on the
    line of its ``spiffworkflow:property``."""
    issues: list[Issue] = []
    for spec in _all_task_specs(info):
        props = (getattr(spec, "extensions", None) or {}).get("properties", {})
        for name, check in checks.items():
            if name not in props:
                continue
            message = check(props[name])
            if message is not None:
                issues.append(
                    loc.issue(
                        spec.name,
                        f"property {name!r}: {message}",
                        _property_line(loc, spec.name, name),
                    )
                )
    return issues


def _property_line(loc: _Located, element_id: str, name: str) -> int | None:
    element = loc.element(element_id)
    if element is None:
        return None
    for node in element.iter(f"{{{SPIFF_NS}}}property"):
        if node.get("name") == name:
            return node.sourceline
    return element.sourceline


def _expression_issues(process, loc: _Located, evaluator: Evaluator) -> list[Issue]:
    issues: list[Issue] = []
    for cond in process.iter(full_tag("conditionExpression")):
        flow = cond.getparent()
        try:
            evaluator.check_expression(cond.text or "")
        except ExpressionError as exc:
            issues.append(loc.at(flow, f"condition {exc}"))
    for tag in ("timeDuration", "timeDate", "timeCycle"):
        for node in process.iter(full_tag(tag)):
            event = node.getparent().getparent()
            text = (node.text or "").strip()
            try:
                _check_timer_text(tag, text, evaluator)
            except ExpressionError as exc:
                issues.append(loc.at(event, f"timer {tag}: {exc}"))
    for script in process.iter(full_tag("script")):
        task = script.getparent()
        try:
            evaluator.check_script(script.text or "")
        except ExpressionError as exc:
            issues.append(loc.at(task, f"script {exc}"))
    for ext in ("preScript", "postScript"):
        for script in process.iter(f"{{{SPIFF_NS}}}{ext}"):
            task = script.getparent().getparent()
            try:
                evaluator.check_script(script.text or "")
            except ExpressionError as exc:
                issues.append(loc.at(task, f"{ext} {exc}"))
    return issues


def _check_timer_text(tag: str, text: str, evaluator: Evaluator) -> None:
    from datetime import UTC, datetime

    if not text:
        raise ExpressionError("value is empty")
    if is_iso_literal(text) or _LOOKS_ISO.match(text.upper()):
        now = datetime(2026, 1, 1, tzinfo=UTC)  # any fixed instant: only parsing is checked here
        upper = text.upper()
        try:
            if tag == "timeCycle" or upper.startswith("R"):
                parse_cycle(text, now)
            elif upper.startswith(("P", "-P")):
                parse_duration(text, now)
            else:
                datetime.fromisoformat(text)
        except ExpressionError:
            raise
        except Exception as exc:
            raise ExpressionError(f"{text!r} does not parse: {exc}") from None
        return
    evaluator.check_expression(text)
