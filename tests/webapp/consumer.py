"""A 12315 consumer complaint (消费投诉) added on the pages, as the tests of issue 21 use it:
its own intake form (merchant, product, amount, purchase date) and its deadlines."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from webapp.hotline import get_hotline
from workflows.forms import FormRegistry

DETAILS_KEY = "consumer/details"
DETAILS = {
    "type": "default",
    "id": "consumer_details",
    "properties": {"title": "消费投诉信息", "en": "Consumer complaint"},
    "components": [
        {"id": "f1", "type": "textfield", "key": "merchant", "label": "经营者",
         "validate": {"required": True, "maxLength": 100}, "properties": {"en": "Merchant"}},
        {"id": "f2", "type": "textfield", "key": "product", "label": "商品或服务",
         "validate": {"required": True, "maxLength": 100},
         "properties": {"en": "Product or service"}},
        {"id": "f3", "type": "number", "key": "amount", "label": "涉及金额（元）",
         "decimalDigits": 2, "validate": {"required": True, "min": 0},
         "properties": {"en": "Amount (yuan)"}},
        {"id": "f4", "type": "datetime", "key": "purchase_date", "label": "购买日期",
         "subtype": "date", "dateLabel": "购买日期", "validate": {"required": True},
         "properties": {"en": "Purchase date"}},
    ],
}  # fmt: skip

#: the 12315 deadlines: decide acceptance within 7 working days; mediation ends 45 working
#: days after acceptance (the reply limit)
FORM = {
    "code": "consumer",
    "label_zh": "消费投诉",
    "label_en": "Consumer complaint",
    "open311_group_zh": "市场监管",
    "open311_group_en": "Market regulation",
    "copy_from": "complaint",
    "details_form": DETAILS_KEY,
    "sign_value": "7",
    "sign_unit": "workdays",
    "reply_value": "45",
    "reply_unit": "workdays",
    "return_value": "2",
    "return_unit": "workdays",
    "extension_max_value": "10",
    "extension_max_unit": "workdays",
    "callback_value": "3",
    "callback_unit": "workdays",
    "callback_required": "true",
    "review_required": "true",
}
VALUES = {
    "merchant": "幸福超市",
    "product": "紫菜",
    "amount": "38.50",
    "purchase_date": "2026-02-20",
}


def with_details_form(app, tmp_path: Path) -> None:
    """The app's forms plus the consumer complaint's own (a copy of the forms directory)."""
    root = tmp_path / "forms"
    shutil.copytree(app.config["FORMS_DIR"], root)
    (root / "consumer").mkdir()
    (root / "consumer" / "details.json").write_text(
        json.dumps(DETAILS, ensure_ascii=False), encoding="utf-8"
    )
    with app.app_context():
        get_hotline().forms = FormRegistry(root)
