"""The per-app hotline objects: the clock, the engine runtime, forms; built once per app."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Flask, current_app

from engine.clock import Clock, SystemClock
from engine.runtime import Runtime


@dataclass
class Hotline:
    clock: Clock
    runtime: Runtime
    forms_dir: Path
    bpmn_dir: Path

    def form_exists(self, key: str) -> bool:
        """True when ``forms/<key>.json`` exists (keys are relative paths like ``complaint/reply``)."""
        if not key or ".." in key.split("/") or key.startswith("/"):
            return False
        return (self.forms_dir / f"{key}.json").is_file()


def init_hotline(app: Flask, clock: Clock | None = None) -> Hotline:
    clock = clock or SystemClock()
    runtime = Runtime(clock=clock, tz=ZoneInfo(app.config["TIMEZONE"]))
    hotline = Hotline(clock, runtime, Path(app.config["FORMS_DIR"]), Path(app.config["BPMN_DIR"]))
    app.extensions["hotline"] = hotline
    return hotline


def get_hotline() -> Hotline:
    return current_app.extensions["hotline"]
