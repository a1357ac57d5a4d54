"""What one wave detection costs besides its SELECT: cutting the descriptions of the scan's
span (the window and the 14 days before it) into words, and the scan of every key.

    PYTHONPATH=$PWD /work/main/.venv/bin/python bench/insight_waves.py --per-day 1000

prints the cases, the keys, and the seconds of each part (one run; figures in
docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import random
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from workflows.insight.text import Segmenter
from workflows.insight.waves import WaveSettings, scan

PHRASES = (
    "小区门口餐馆卫生很差，吃完腹泻", "楼下烧烤店油烟太大，晚上噪音扰民", "路灯坏了一个月没人修",
    "物业乱收停车费，业主不满意", "公交车站台积水严重，下雨天无法候车", "超市卖过期牛奶，商家拒绝退货",
    "工地夜间施工噪音大，影响休息", "小区电梯经常故障困人", "网约车司机绕路多收费",
    "学校门口流动摊贩占道经营", "自来水发黄有异味", "公园健身器材损坏存在安全隐患",
)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--per-day", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    settings = WaveSettings()
    now = datetime(2026, 3, 20, 12, tzinfo=UTC)
    days = 15
    n = args.per_day * days
    cases = [
        (
            now - timedelta(seconds=rng.uniform(0, days * 86400)),
            rng.choice(PHRASES) + rng.choice(PHRASES)[:6] + f"{rng.randrange(1, 99)}号楼",
            rng.choice(("食品安全", "噪音扰民", "市政设施", "物业管理", "交通运输")),
            rng.choice(("D-PJ", "D-JH", "D-XH", "D-TS", "D-KP")),
        )
        for _ in range(n)
    ]
    words = Segmenter()
    words.words("预热")  # jieba's dictionary loads once per process (not counted)
    t0 = time.perf_counter()
    series: dict[tuple[str, str], list] = defaultdict(list)
    for i, (at, text, category, area) in enumerate(cases):
        series[("category", category)].append((at, i))
        series[("category_area", f"{category}|{area}")].append((at, i))
        for word in set(words.words(text)):
            series[("word", word)].append((at, i))
    t1 = time.perf_counter()
    flags = scan(series, now, settings)
    t2 = time.perf_counter()
    print(f"cases {n} ({args.per_day} a day over {days} days), keys {len(series)}")
    print(f"segmenting {t1 - t0:.2f} s ({n / (t1 - t0):,.0f} descriptions/s)")
    print(f"scan {t2 - t1:.2f} s, flags {len(flags)}")


if __name__ == "__main__":
    main()
