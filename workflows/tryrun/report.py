"""A try run's findings and report, in words a designer acts on (Chinese and English)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

#: the kinds of finding, most serious first: each is about one element of the draft
KINDS = ("error", "nobody", "stuck", "unreachable", "refused")


def _msg(lang: str, zh: str, en: str) -> str:
    return en if lang == "en" else zh


@dataclass
class Finding:
    """One problem at one element: ``kind`` (see KINDS), what the run saw (``detail``, the
    engine's or a form's words), and how many of the synthetic cases met it."""

    element: str
    kind: str
    detail: str = ""
    cases: int = 0
    #: the lane (role) or the group no user has, for "nobody"
    value: str = ""

    def message(self, lang: str = "zh") -> str:
        n = self.cases
        if self.kind == "error" and self.value == "gateway":
            return _msg(
                lang,
                f"{n} 件在此出错：网关的条件都不成立，也没有默认路径",
                f"{n} cases failed here: no condition of the gateway was true and it has no "
                "default flow",
            )
        if self.kind == "error":
            return _msg(
                lang,
                f"运行出错（{n} 件）：{self.detail}",
                f"the run failed here ({n} cases): {self.detail}",
            )
        if self.kind == "nobody":
            if self.detail == "role":
                return _msg(
                    lang,
                    f"没有角色为 {self.value} 的用户，无人能办理此任务",
                    f"no user has the role {self.value}: nobody may do this task",
                )
            if self.detail == "group":
                return _msg(
                    lang,
                    f"候选组 {self.value} 中没有可办理此任务的用户",
                    f"no user of the candidate group {self.value} may do this task",
                )
            return _msg(
                lang,
                f"{n} 件卡在此任务：没有可办理的用户（候选组 {self.value or '无'}）",
                f"{n} cases stuck here: no user may do this task "
                f"(candidate group {self.value or 'none'})",
            )
        if self.kind == "stuck":
            return _msg(
                lang,
                f"{n} 件停在此处：没有待办任务，也没有计时器（等待永远不会来的事件）",
                f"{n} cases stopped here: no task and no timer is left (waiting for an event "
                "that never comes)",
            )
        if self.kind == "unreachable":
            return _msg(
                lang,
                "从开始事件没有路径到达此元素",
                "no path reaches this element from a start event",
            )
        return _msg(
            lang,
            f"表单数据一直被拒绝（{n} 件）：{self.detail}",
            f"the form's data was refused every time ({n} cases): {self.detail}",
        )

    def as_json(self, lang: str = "zh") -> dict[str, Any]:
        message = self.message(lang)
        return {
            "element": self.element,
            "kind": self.kind,
            "cases": self.cases,
            "message": message,
            "text": f"{self.element}: {message}",
        }


@dataclass
class TryReport:
    process: str
    case_type: str
    cases: int
    seed: int
    #: element id -> its name in the diagram
    names: dict[str, str] = field(default_factory=dict)
    started: int = 0
    completed: int = 0
    running: int = 0
    #: cases an error stopped on the way (a gateway with no way out, a script that failed)
    failed: int = 0
    #: cases whose start failed (an error on the way to the first task)
    not_started: int = 0
    ends: Counter = field(default_factory=Counter)
    #: where the cases still running at the end wait (their ready tasks)
    waiting: Counter = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)
    #: reachable elements that no synthetic case reached (worth a look, not a problem)
    not_reached: list[str] = field(default_factory=list)
    steps: int = 0
    timers_fired: int = 0
    simulated_days: float = 0.0
    #: the time budget or the step cap ended the run before every case settled
    truncated: bool = False

    @property
    def ok(self) -> bool:
        return not self.findings

    def sorted_findings(self) -> list[Finding]:
        return sorted(self.findings, key=lambda f: (KINDS.index(f.kind), f.element))

    def as_json(self, lang: str = "zh") -> dict[str, Any]:
        def named(counter: Counter) -> list[dict[str, Any]]:
            return [
                {"element": e, "name": self.names.get(e, ""), "count": n}
                for e, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
            ]

        return {
            "ok": self.ok,
            "process": self.process,
            "case_type": self.case_type,
            "cases": self.cases,
            "seed": self.seed,
            "started": self.started,
            "completed": self.completed,
            "running": self.running,
            "failed": self.failed,
            "not_started": self.not_started,
            "ends": named(self.ends),
            "waiting": named(self.waiting),
            "findings": [
                {**f.as_json(lang), "name": self.names.get(f.element, "")}
                for f in self.sorted_findings()
            ],
            "not_reached": [
                {"element": e, "name": self.names.get(e, "")} for e in self.not_reached
            ],
            "steps": self.steps,
            "timers_fired": self.timers_fired,
            "simulated_days": round(self.simulated_days, 1),
            "truncated": self.truncated,
        }

    def lines(self) -> list[str]:
        """The report as text (``hotline try``), in English."""
        out = [
            f"tried {self.process} (case type {self.case_type}): {self.cases} synthetic cases, "
            f"seed {self.seed}, {self.simulated_days:.1f} simulated days, {self.steps} task "
            f"steps, {self.timers_fired} timer firings"
            + (" (stopped early: time or step budget)" if self.truncated else ""),
            f"cases: {self.completed} ended, {self.running} still running, "
            f"{self.failed} stopped by an error, {self.not_started} failed to start",
        ]
        for element, n in sorted(self.ends.items(), key=lambda kv: (-kv[1], kv[0])):
            out.append(f"  ended at {element} ({self.names.get(element, '')}): {n}")
        for element, n in sorted(self.waiting.items(), key=lambda kv: (-kv[1], kv[0])):
            out.append(f"  waiting at {element} ({self.names.get(element, '')}): {n}")
        if self.findings:
            out.append(f"problems: {len(self.findings)}")
            out.extend(f"  {f.element}: {f.message('en')}" for f in self.sorted_findings())
        else:
            out.append("problems: none")
        if self.not_reached:
            out.append(f"not reached in this run: {', '.join(self.not_reached)}")
        return out
