"""How long the topics page's top words take: ``Segmenter.top`` over N simulated case
descriptions (10,000 and 50,000 by default), with the demo's dictionary.

    PYTHONPATH=$PWD python bench/insight_topic_words.py [N ...]
"""

from __future__ import annotations

import random
import sys
import time

from workflows.insight.areas import DEMO_TERMS
from workflows.insight.text import Segmenter

PLACES = ["蓬江区", "江海区", "新会区", "白沙街道", "潮连街道", "外海街道", "会城街道"]
THINGS = [
    "路灯损坏",
    "噪音扰民",
    "占道经营",
    "违法建设",
    "物业管理混乱",
    "超市销售过期食品",
    "小区电梯故障",
    "道路积水",
    "垃圾清运不及时",
    "网约车乱收费",
    "餐馆油烟污染",
]
TAILS = [
    "已持续一周，影响居民正常生活",
    "夜间尤其严重，希望尽快处理",
    "多次反映未果",
    "存在安全隐患，请相关部门核实",
    "给老人小孩出行带来不便",
]


def descriptions(n: int, seed: int = 19) -> list[str]:
    rng = random.Random(seed)
    return [
        f"市民反映{rng.choice(PLACES)}{rng.randint(1, 200)}号附近{rng.choice(THINGS)}，"
        f"{rng.choice(TAILS)}。"
        for _ in range(n)
    ]


def main(sizes: list[int]) -> None:
    segmenter = Segmenter(DEMO_TERMS)
    segmenter.top(["预热"])  # jieba loads its dictionary once per process (~0.5 s)
    for n in sizes:
        texts = descriptions(n)
        started = time.perf_counter()
        top = segmenter.top(texts, n=30)
        took = time.perf_counter() - started
        print(f"{n:>7} descriptions: {took:6.2f} s ({n / took:,.0f}/s); top: {top[:3]}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10_000, 50_000])
