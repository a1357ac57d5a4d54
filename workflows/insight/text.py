"""The words of a case's description: jieba's segmentation, with the centre's dictionary.

jieba ships its dictionary in the package (nothing is downloaded). The centre's own words
(``Term``: place names and terms kept whole, stop words never counted) are added to one
tokenizer per process, brought up to date when the table changes (``segmenter``). A word is
what a person would count as one: two characters or more, with a Chinese character, a letter or
a digit in it, not a stop word ("市民", "反映", "问题": every case says them).
"""

from __future__ import annotations

import logging
import re
import threading
import warnings
from collections import Counter
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Term

#: words of every complaint: counted, they would top every period
_STOP = """
    市民 反映 来电 来电人 投诉 举报 咨询 求助 建议 问题 情况 要求 希望 请求 请 处理 解决 相关
    部门 单位 有关 核实 进行 已经 没有 一个 一直 现在 目前 多次 存在 我们 他们 自己 这个 那个
    什么 怎么 如何 是否 可以 不能 需要 还是 因为 所以 但是 而且 以及 或者 并且 如果 导致 造成
    出现 发现 表示 称 其 该 此 等 及 与 和 的 了 在 是 有 也 都 就 又 被 把 对 于 为 从 到 向
    附近 周边 位置 地址 时间 左右 以上 以下 今天 昨天 近期 最近 至今 每天 经常 严重 影响
    说法 给个 能不能 是不是 事情
"""
STOP_WORDS = frozenset(_STOP.split())
_MEANINGFUL = re.compile(r"[\u4e00-\u9fff]|[A-Za-z0-9]{2}")
_LOCK = threading.Lock()
_BASE = None
_APPLIED: dict[str, str] = {}


def _tokenizer():
    """The process's one jieba tokenizer (loaded once: about half a second)."""
    global _BASE
    if _BASE is None:
        with warnings.catch_warnings():
            # jieba 0.42 imports pkg_resources where setuptools has it
            warnings.simplefilter("ignore")
            import jieba

        jieba.setLogLevel(logging.WARNING)
        tokenizer = jieba.Tokenizer()
        tokenizer.initialize()
        _BASE = tokenizer
    return _BASE


class Segmenter:
    """Cuts texts into the words insight counts, with a set of the centre's terms."""

    def __init__(self, terms: dict[str, str] | None = None) -> None:
        #: word -> kind (place, term, stop)
        self.terms = dict(terms or {})
        self.stop = STOP_WORDS | {w for w, k in self.terms.items() if k == "stop"}

    def cut(self, text: str) -> list[str]:
        """Every token of ``text``, as jieba cuts it with the centre's dictionary."""
        tokenizer = _tokenizer()
        with _LOCK:
            _apply(tokenizer, self.terms)
            return [t.strip() for t in tokenizer.cut(text or "", HMM=True) if t.strip()]

    def words(self, text: str) -> list[str]:
        """The words of ``text`` worth counting, in order, repeats kept."""
        return [t for t in self.cut(text) if self.counts(t)]

    def counts(self, token: str) -> bool:
        """Whether ``token`` is a word worth counting."""
        return len(token) >= 2 and token not in self.stop and bool(_MEANINGFUL.search(token))

    def top(self, texts: Iterable[str], n: int = 20) -> list[tuple[str, int]]:
        """The ``n`` words found in most texts (a word counts once per text), most first,
        ties by the word."""
        counter: Counter[str] = Counter()
        for text in texts:
            counter.update(set(self.words(text)))
        return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


def _apply(tokenizer, terms: dict[str, str]) -> None:
    """Bring the tokenizer's added words in line with ``terms`` (under ``_LOCK``)."""
    wanted = {w: k for w, k in terms.items() if k in ("place", "term")}
    for word in [w for w in _APPLIED if w not in wanted]:
        tokenizer.del_word(word)
        del _APPLIED[word]
    for word, kind in wanted.items():
        if _APPLIED.get(word) != kind:
            # a high frequency: the centre's word is kept whole over jieba's own split
            tokenizer.add_word(word, freq=max(tokenizer.suggest_freq(word, tune=False), 1000))
            _APPLIED[word] = kind


def load_terms(session: Session) -> dict[str, str]:
    """The centre's dictionary: word -> kind."""
    return {word: kind for word, kind in session.execute(select(Term.word, Term.kind))}


def segmenter(session: Session) -> Segmenter:
    """A segmenter with the centre's dictionary as it is now."""
    return Segmenter(load_terms(session))
