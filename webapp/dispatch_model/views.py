"""Thin views: the learned suggestions' fragment, and the template global the pages use."""

from __future__ import annotations

from flask import current_app, render_template, request

from workflows.insight.dispatch_learned import Learned, learned
from workflows.users.models import Role

from ..extensions import db
from ..hotline import get_hotline
from ..inbox.labels import department_name
from ..security import roles_required
from . import bp


@bp.context_processor
def _labels() -> dict:
    return {"department_name": department_name}


@bp.app_template_global()
def learned_dispatch(description: str, category: str, area: str) -> Learned:
    """The model's top three for the page's case (workflows/insight/dispatch_learned.py)."""
    return learned(
        db.session,
        description=description or "",
        category=category or "",
        area=area or "",
        now=get_hotline().clock.now(),
        max_age_days=float(current_app.config.get("DISPATCH_MODEL_MAX_AGE_DAYS") or 0),
    )


@bp.get("/dispatch-model/learned")
@roles_required(Role.OPERATOR)
def fragment():
    """The intake page's panel, again for what the operator has typed so far."""
    args = request.args
    return render_template(
        "dispatch/_learned_list.html",
        learned=learned_dispatch(
            args.get("description", "")[:4000], args.get("category", ""), args.get("area", "")
        ),
    )
