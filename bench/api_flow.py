"""One complaint's whole life through the REST API, as the load test and the profiler run it.

Shared by ``bench/locustfile.py`` (over HTTP, under locust) and ``bench/http.py --profile``
(in process, through Flask's test client): both hand :func:`lifecycle` a ``call`` function
``call(method, path, *, role, name, expect, json=None, headers=None) -> (body, headers)`` that
sends the role's bearer token and raises :class:`Failed` on any other status than ``expect``.

The steps: the phone system takes the call (``POST /api/v1/cases`` with an Idempotency-Key;
now and then the same request again, as a phone system does after a time-out, which must
answer the same case); the dispatcher finds the case's dispatch task in the inbox and
dispatches it to the market supervision bureau; its handler signs for it and replies; the
dispatcher accepts the reply; the supervisor records the callback, and the case is closed.
Each completion answers the case's next tasks, so no other look-up is needed.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from typing import Any

#: the demo city's users doing each step (``hotline init --demo`` or the bench's lighter init)
USERS = {
    "operator": "op1",
    "dispatcher": "disp1",
    "handler": "h_mr",
    "supervisor": "sup1",
    "callback": "cb1",
}

INTAKE = {
    "case_type": "complaint",
    "urgency": "normal",
    "channel": "phone",
    "caller_name": "张三",
    "address": "江门市蓬江区白沙大道1号",
    "area": "D-PJ",
    "category": "食品安全",
    "description": "小区门口餐馆卫生很差，吃完腹泻",
    "intake_outcome": "dispatch",
}
#: (step, role, form data) of each task after intake, in order
STEPS = (
    ("dispatch", "dispatcher", {"lead_department": "B-MR"}),
    ("sign_for", "handler", {"action": "sign"}),
    (
        "handle",
        "handler",
        {"action": "reply", "reply_text": "已责令整改并复查", "result": "resolved"},
    ),
    ("review_reply", "dispatcher", {"decision": "accept"}),
    ("callback", "callback", {"satisfaction": "satisfied", "resolved": "yes"}),
)
#: the inbox page the dispatcher reads (the largest the API allows)
INBOX = "/api/v1/tasks?step=dispatch&per_page=200"


class Failed(Exception):
    """A step answered something else than expected: the lifecycle stops there."""


Call = Callable[..., tuple[Any, Any]]


def lifecycle(call: Call, *, retry_share: float = 0.05, rng: random.Random | None = None) -> str:
    """Run one complaint from the call to its closure; the case number."""
    rng = rng or random
    data = {**INTAKE, "caller_phone": f"139{rng.randrange(10**8):08d}"}
    key = f"call-{uuid.uuid4().hex}"
    case, _ = call(
        "POST",
        "/api/v1/cases",
        role="operator",
        name="POST /cases",
        expect=201,
        json=data,
        headers={"Idempotency-Key": key},
    )
    number = case["number"]
    if rng.random() < retry_share:
        again, headers = call(
            "POST",
            "/api/v1/cases",
            role="operator",
            name="POST /cases (retried)",
            expect=201,
            json=data,
            headers={"Idempotency-Key": key},
        )
        if again["number"] != number or headers.get("Idempotent-Replayed") != "true":
            raise Failed(f"a retried intake made case {again['number']}, not {number}")
    inbox, _ = call("GET", INBOX, role="dispatcher", name="GET /tasks?step=dispatch", expect=200)
    task_id = next((t["task_id"] for t in inbox["items"] if t["case"]["number"] == number), None)
    if task_id is None:
        raise Failed(f"case {number}'s dispatch task is not in the dispatcher's inbox")
    done: dict[str, Any] = {}
    for step, role, form in STEPS:
        if done:
            task_id = next((t["task_id"] for t in done["next_tasks"] if t["step"] == step), None)
            if task_id is None:
                raise Failed(f"case {number} has no {step} task after {done['task']['name']}")
        done, _ = call(
            "POST",
            f"/api/v1/tasks/{task_id}/complete",
            role=role,
            name=f"POST /tasks/[id]/complete ({step})",
            expect=200,
            json=form,
        )
    if done["case"]["status"] != "closed":
        raise Failed(f"case {number} is {done['case']['status']} after the callback")
    return number


#: requests in one lifecycle when none is retried: intake, the inbox, five completions
REQUESTS_PER_LIFECYCLE = 2 + len(STEPS)


def ceiling(call: Call, path: str, role: str = "operator") -> None:
    """The same number of requests as a lifecycle, each a ``GET path`` that does (almost) no work.

    ``bench/http.py --ceiling PATH`` runs this instead of :func:`lifecycle` on the same
    processes, so the "lifecycles" per second it reports is what this machine, this web server
    and this load tool allow at most, whatever the engine does.
    """
    for _ in range(REQUESTS_PER_LIFECYCLE):
        call("GET", path, role=role, name=f"GET {path}", expect=200)
