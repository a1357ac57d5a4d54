"""The messages a form answers bad input with, in Chinese (the default) and English."""

from __future__ import annotations

#: message id -> (Chinese, English); ``{n}`` and ``{values}`` are filled in when raised.
MESSAGES: dict[str, tuple[str, str]] = {
    "required": ("此项为必填项", "This field is required."),
    "unknown": ("表单中没有此项", "This form has no such field."),
    "form": ("提交的数据格式不正确", "The submitted data is not a form."),
    "text": ("请输入文本", "Enter text."),
    "min_length": ("至少输入 {n} 个字符", "Enter at least {n} characters."),
    "max_length": ("最多 {n} 字，现在 {m} 字", "At most {n} characters; this has {m}."),
    "pattern": ("格式不正确", "The format is not valid."),
    "email": ("请输入有效的电子邮箱地址", "Enter a valid email address."),
    "phone": ("请输入有效的电话号码", "Enter a valid phone number."),
    "number": ("请输入数字", "Enter a number."),
    "integer": ("请输入整数", "Enter a whole number."),
    "decimal_digits": ("最多保留 {n} 位小数", "Use at most {n} decimal places."),
    "min": ("不能小于 {n}", "Must be at least {n}."),
    "max": ("不能大于 {n}", "Must be at most {n}."),
    "boolean": ("请选择是或否", "Choose yes or no."),
    "choice": ("请从选项中选择", "Choose one of the options."),
    "choices": ("以下值不在选项中：{values}", "Not among the options: {values}."),
    "list": ("请选择一个或多个选项", "Choose one or more options."),
    "datetime": ("请输入有效的日期和时间", "Enter a valid date and time."),
    "date": ("请输入有效的日期", "Enter a valid date."),
    "time": ("请输入有效的时间", "Enter a valid time."),
}

LANGUAGES = ("zh", "en")


def normalize_lang(lang: str | None) -> str:
    """``"en"`` for any English tag (``en``, ``en-US``...), ``"zh"`` for everything else."""
    return "en" if lang and lang.lower().replace("_", "-").split("-")[0] == "en" else "zh"


def message(key: str, lang: str = "zh", **params: object) -> str:
    """The message ``key`` in ``lang``, with its parameters filled in."""
    zh, en = MESSAGES[key]
    return (en if normalize_lang(lang) == "en" else zh).format(**params)


def messages_for(lang: str) -> dict[str, str]:
    """Every message in one language, as marshmallow ``error_messages`` want them."""
    index = 1 if normalize_lang(lang) == "en" else 0
    return {key: pair[index] for key, pair in MESSAGES.items()}
