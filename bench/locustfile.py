"""Locust users for ``bench/http.py``: closed-loop clients that each run one complaint's whole
life through the REST API after the other (``bench/api_flow.py``): the phone system's intake
with an Idempotency-Key, then dispatch, sign-for, reply, review and callback with each role's
token, until the case is closed.

Tokens come from ``BENCH_TOKENS`` (JSON, role -> token); when the test stops, the number of
completed and failed lifecycles and the seconds they took go to the file ``BENCH_OUT``.
With ``BENCH_CEILING=/path`` each "lifecycle" is instead as many GETs of that path
(``api_flow.ceiling``): the most this machine allows, whatever the engine does.
With ``BENCH_PACING=S`` each user starts a lifecycle every S seconds instead (a paced load of
users / S lifecycles a second, as long as one takes less than S), as ``bench/calls.py
--pacing`` asks.
Run by bench/http.py; by hand:
  BENCH_TOKENS='{"operator": "hl_...", ...}' locust -f bench/locustfile.py --host http://...
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from pathlib import Path

from locust import FastHttpUser, constant, constant_pacing, events, task

sys.path.append(str(Path(__file__).resolve().parent))
from api_flow import Failed, ceiling, lifecycle  # noqa: E402

TOKENS: dict[str, str] = json.loads(os.environ.get("BENCH_TOKENS", "{}"))
#: with a path here, each user sends that many GETs of it instead of a case's life
CEILING = os.environ.get("BENCH_CEILING")
#: seconds between the starts of a user's lifecycles (0: a closed loop)
PACING = float(os.environ.get("BENCH_PACING") or 0)
TALLY = {"completed": 0, "failed": 0, "started_at": None, "stopped_at": None}


class Complaints(FastHttpUser):
    """One phone line and the people behind it: a call, then the case's loop to closure."""

    # closed loop: the next call comes as soon as a case is closed (unless paced)
    wait_time = constant_pacing(PACING) if PACING else constant(0)

    def on_start(self) -> None:
        self.rng = random.Random()

    def call(self, method, path, *, role, name, expect, json=None, headers=None):
        headers = {"Authorization": f"Bearer {TOKENS[role]}", **(headers or {})}
        failure = None
        with self.client.request(
            method, path, json=json, headers=headers, name=name, catch_response=True
        ) as response:
            if response.status_code != expect:
                failure = f"{name}: {response.status_code} {(response.text or '')[:300]}"
                response.failure(failure)
            else:
                body = response.json()
                response.success()
        if failure:
            raise Failed(failure)
        return body, response.headers

    @task
    def complaint(self) -> None:
        try:
            if CEILING:
                ceiling(self.call, CEILING)
            else:
                lifecycle(self.call, rng=self.rng)
        except Failed:
            TALLY["failed"] += 1
        else:
            TALLY["completed"] += 1


@events.test_start.add_listener
def _started(**_kwargs) -> None:
    TALLY["started_at"] = time.monotonic()


@events.test_stop.add_listener
def _stopped(**_kwargs) -> None:
    TALLY["stopped_at"] = time.monotonic()
    out = os.environ.get("BENCH_OUT")
    if out:
        seconds = TALLY["stopped_at"] - (TALLY["started_at"] or TALLY["stopped_at"])
        with open(out, "w") as f:
            json.dump(
                {"completed": TALLY["completed"], "failed": TALLY["failed"], "seconds": seconds}, f
            )
