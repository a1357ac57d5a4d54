"""The simulator's descriptions: what citizens say, by sub-topic, each with its true unit.

A category is several sub-topics, and each has the unit that really handles it (night-time
construction noise goes to the housing bureau, a shop's loudspeaker to urban management,
neighbours and bars to the district). The dispatch catalogue (category x area -> one unit) is
right only for a category's majority sub-topic. Sentences are put together from templates,
synonyms, places, times and details, so that the words tell the unit in most cases, and some
callers say too little for anyone to tell (``VAGUE_SHARE``): a model learned from history can
beat the catalogue, but not reach 100%.

``DISTRICT`` as a unit means the district platform of the case's area (it re-dispatches to a
street office).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

DISTRICT = "district"
#: the share of the callers who describe their problem too vaguely to tell its sub-topic
VAGUE_SHARE = 0.12


@dataclass(frozen=True)
class Topic:
    unit: str
    weight: float
    subjects: tuple[str, ...]
    problems: tuple[str, ...]


def _t(unit: str, weight: float, subjects: str, problems: str) -> Topic:
    return Topic(unit, weight, tuple(subjects.split()), tuple(problems.split()))


TOPICS: dict[str, tuple[Topic, ...]] = {
    "食品安全": (
        _t(
            "B-MR",
            0.5,
            "餐馆 饭店 餐厅 大排档 快餐店 烧烤店",
            "后厨卫生差 食用后腹泻 饭菜有异物 使用地沟油 餐具不消毒 吃出虫子",
        ),
        _t(
            "B-MR",
            0.3,
            "超市 便利店 商店 食品店",
            "出售过期食品 卖变质肉类 食品无生产日期 销售三无食品",
        ),
        _t(
            "B-UM", 0.12, "流动摊贩 路边小吃摊 夜市摊档", "无证摆卖熟食 在路边油烟熏人 占道售卖小吃"
        ),
        _t(
            "B-WA",
            0.08,
            "自来水 水龙头出水 家里的水",
            "有异味发黄 水质浑浊有杂质 喝了拉肚子疑似水质问题",
        ),
    ),
    "药品安全": (
        _t(
            "B-MR",
            0.82,
            "药店 药房 诊所 医药超市",
            "出售过期药品 无处方卖处方药 销售假药 保健品虚假宣传",
        ),
        _t("B-HR", 0.18, "定点药店 医保定点药房", "用医保卡刷生活用品 医保卡被盗刷 医保结算多收钱"),
    ),
    "价格收费": (
        _t(
            "B-MR",
            0.62,
            "停车场 商场 景区 酒店 理发店",
            "乱收费 未明码标价 价格欺诈 收费高于公示价格",
        ),
        _t("B-TR", 0.2, "出租车 网约车 的士 长途客运站", "不打表乱要价 绕路多收车费 车费明显偏高"),
        _t("B-HU", 0.18, "物业公司 小区物业 管理处", "擅自上涨物业费 乱收装修押金 收取不明电梯费"),
    ),
    "消费维权": (
        _t(
            "B-MR",
            0.88,
            "网购的家电 新买的手机 健身房 培训机构 装修公司 美容院",
            "质量问题商家拒绝退换 预付卡不退款 合同纠纷不履约 售后推诿不处理",
        ),
        _t(
            "CENTRE",
            0.12,
            "之前的投诉 上次反映的消费纠纷 商家调解结果",
            "一直没有答复要求中心跟进 对答复不满意要求再次核实 想了解办理进度",
        ),
    ),
    "物业管理": (
        _t(
            "B-HU",
            0.7,
            "小区物业 物业公司 物业管理处",
            "不作为 垃圾长期无人清理 电梯坏了不修 保安形同虚设 公共维修基金不公开",
        ),
        _t(
            DISTRICT,
            0.15,
            "无物业的老旧小区 街巷 社区公共区域",
            "垃圾堆积无人清运 化粪池满溢 楼道杂物无人管",
        ),
        _t("B-WA", 0.15, "小区供水管网 楼栋水压", "水压不足高层无水 水管漏水浪费 二次供水水箱脏"),
    ),
    "房屋质量": (
        _t(
            "B-HU",
            0.88,
            "新房 商品房 楼盘 住宅楼",
            "墙体开裂渗水 交房质量差 地面空鼓 外墙瓷砖脱落 楼板裂缝",
        ),
        _t("B-MR", 0.12, "小区电梯 楼里的电梯", "经常困人 年检过期 运行异响有安全隐患"),
    ),
    "占道经营": (
        _t(
            "B-UM",
            0.7,
            "流动摊贩 水果摊 商铺 早餐档",
            "占道经营影响通行 把货物摆到人行道 出店经营堵塞路口",
        ),
        _t(DISTRICT, 0.2, "菜市场门口 村里的路 社区巷子", "摆摊堵路 乱搭棚子摆卖 周末集市堵死巷口"),
        _t("B-TR", 0.1, "汽修店 洗车店", "在路边修车占用车道 洗车污水流到马路"),
    ),
    "噪音扰民": (
        _t(
            "B-UM",
            0.42,
            "商铺 店铺 手机店 服装店 超市门口",
            "用大喇叭循环播放广告 音响声音太大 高音喇叭叫卖",
        ),
        _t(
            "B-HU",
            0.3,
            "工地 建筑工地 施工单位 楼盘工地",
            "夜间施工噪音扰民 凌晨还在打桩 半夜浇筑混凝土 深夜机器轰鸣",
        ),
        _t(
            DISTRICT,
            0.28,
            "楼上邻居 酒吧 广场舞 大排档 KTV",
            "深夜喧哗 音乐太吵睡不着 跳广场舞音响很大 半夜划拳吵闹",
        ),
    ),
    "供水停水": (
        _t(
            "B-WA",
            0.85,
            "小区 片区 整栋楼 村里",
            "停水超过24小时无通知 突然停水 水管爆裂 自来水压力太小",
        ),
        _t(
            "B-HU",
            0.15,
            "小区二次供水 楼顶水箱 加压泵房",
            "水箱清洗后还没恢复供水 加压泵坏了高层停水 物业说水泵在维修",
        ),
    ),
    "欠薪维权": (
        _t(
            "B-HR",
            0.82,
            "公司 工厂 老板 餐饮店 物流公司",
            "拖欠三个月工资 不发加班费 辞职后不结工资 克扣工资",
        ),
        _t(
            "B-HU",
            0.18,
            "建筑工地 施工项目 包工头 工程项目部",
            "拖欠农民工工资 工程款没结不发工资 项目完工后不结账",
        ),
    ),
    "社保医保": (
        _t(
            "B-HR",
            0.8,
            "社保卡 医保 养老保险 社保 失业金",
            "异地就医报销问题 单位没交社保 断缴无法补缴 领取手续太麻烦",
        ),
        _t(
            "CENTRE",
            0.2,
            "社保政策 医保新政 退休待遇",
            "想了解具体规定 中心上次答复不清楚 要求中心进一步解释",
        ),
    ),
    "公交出租": (
        _t(
            "B-TR",
            0.85,
            "公交车 公交司机 出租车司机 班车",
            "拒载老人 车辆不按站停靠 司机态度恶劣 班次太少等车太久",
        ),
        _t(DISTRICT, 0.15, "公交站台 候车亭 站牌", "顶棚破损漏雨 座椅损坏 被广告遮挡看不清"),
    ),
    "道路设施": (
        _t(
            DISTRICT,
            0.5,
            "人行道 巷道 村道 小区门口的路",
            "地砖破损 路面坑洼积水 路沿石松动 台阶塌陷",
        ),
        _t("B-UM", 0.28, "路灯 一排路灯 街灯", "不亮 晚上忽明忽暗 灯杆倾斜 白天还亮着浪费电"),
        _t("B-WA", 0.14, "井盖 下水道 雨水井", "缺失很危险 破损塌陷 堵塞污水外溢"),
        _t("B-TR", 0.08, "交通标志 红绿灯 道路标线", "被撞倒 不显示 磨损看不清"),
    ),
    "违法建设": (
        _t(
            DISTRICT,
            0.76,
            "楼顶 天台 自家院子 一楼住户 村民",
            "加建违章建筑 私自搭建铁皮房 违规扩建 占用绿地建房",
        ),
        _t(
            "B-HU",
            0.24,
            "建筑工地 开发商 施工单位",
            "无施工许可证开工 未批先建 超出规划许可加建楼层",
        ),
    ),
}

PLACES = {
    "D-PJ": "白沙 潮连 环市 北街 杜阮 棠下 荷塘 堤东路 建设路 港口路 华园路 万达广场",
    "D-JH": "外海 礼乐 江南 滘头 五邑路 金瓯路 江海广场 高新区",
    "D-XH": "会城 大泽 司前 崖门 今古洲 新会大道 冈州大道 圭峰路",
}
PLACE_KINDS = ["小区", "花园", "路", "市场", "一带", "街", "村", "公寓", "附近", "路口"]
TIMES = [
    "最近",
    "这几天",
    "上周开始",
    "连续一个月",
    "每天晚上",
    "今天上午",
    "周末",
    "长期以来",
    "节假日",
    "这半年",
]
OPENERS = ("", "", "市民来电反映：", "来电人称：", "市民反映，", "群众投诉：", "本人住在{where}，")
ASKS = (
    "",
    "，希望尽快处理",
    "，请相关部门核实",
    "，要求给个说法",
    "，多次反映未解决",
    "，影响生活",
    "，请派人查看",
    "，希望有关单位管一管",
)
TEMPLATES = (
    "{opener}{where}的{subject}{problem}{ask}",
    "{opener}{when}{where}{subject}{problem}{ask}",
    "{opener}{subject}{problem}，地点在{where}，{when}都这样{ask}",
    "{opener}{where}有{subject}{problem}，{when}没人管{ask}",
    "{opener}反映{subject}{problem}的问题，位于{where}{ask}",
)
#: what a vague caller says: the category's words only
VAGUE = (
    "{opener}{where}{category}方面的问题，{when}一直没解决{ask}",
    "{opener}关于{category}，{where}的情况请核实{ask}",
    "{opener}{when}{where}有{category}的事情想反映{ask}",
)


def _place(rng: random.Random, area: str) -> str:
    names = PLACES.get(area) or PLACES["D-PJ"]
    return rng.choice(names.split()) + rng.choice(PLACE_KINDS)


def describe(rng: random.Random, category: str, area: str) -> tuple[str, str]:
    """(description, true unit code) of one call in ``category`` from ``area`` (a district
    code: a ``DISTRICT`` sub-topic's unit is that district's platform)."""
    topics = TOPICS.get(category)
    where, when = _place(rng, area), rng.choice(TIMES)
    opener = rng.choice(OPENERS).format(where=where)
    ask = rng.choice(ASKS)
    if not topics:
        return f"{opener}{where}{category}问题，请核实处理{ask}", ""
    topic = rng.choices(topics, [t.weight for t in topics])[0]
    unit = area if topic.unit == DISTRICT else topic.unit
    if rng.random() < VAGUE_SHARE:
        template = rng.choice(VAGUE)
        text = template.format(opener=opener, where=where, when=when, category=category, ask=ask)
        return text, unit
    text = rng.choice(TEMPLATES).format(
        opener=opener,
        where=where,
        when=when,
        subject=rng.choice(topic.subjects),
        problem=rng.choice(topic.problems),
        ask=ask,
    )
    return text, unit


def catalogue_share(category: str) -> float:
    """The weight of the category's majority sub-topic (what the catalogue gets right)."""
    topics = TOPICS.get(category, ())
    return max((t.weight for t in topics), default=0.0)
