"""Reference data: what every installation needs (policy, calendar) and a demo city.

The demo city is a 12345 centre in the style of Jiangmen's (one of the two source articles):
a city platform, city bureaus, three district platforms with street offices below them, the
people who work there, a dispatch catalogue and a few knowledge-base articles.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import Clock

from .calendar.service import seed_from_holidays
from .cases.types import BUILTIN, CaseTypes
from .departments.models import Department
from .dispatch.models import DispatchRule
from .knowledge.models import Article
from .policy.models import DeadlinePolicy
from .policy.service import EDITABLE, seed_policies
from .users.models import Role
from .users.service import PBX_USERNAME, by_username, create_user

DEPARTMENTS = [
    # code, name, English name, level, parent, platform
    (
        "CITY",
        "江门市12345政务服务便民热线中心",
        "Jiangmen 12345 Citizen Service Centre",
        "city",
        None,
        True,
    ),
    # the centre's own unit (中心自办): the dispatcher makes it the lead unit when the centre
    # takes a case itself (a second reply after research); it signs for and handles the case
    # as any department does, under the same deadlines and callback
    ("CENTRE", "市12345中心自办", "12345 Centre (handled by the centre)", "city", "CITY", False),
    ("B-MR", "市场监督管理局", "Market Regulation Bureau", "city", "CITY", False),
    (
        "B-HU",
        "住房和城乡建设局",
        "Housing and Urban-Rural Development Bureau",
        "city",
        "CITY",
        False,
    ),
    ("B-UM", "城市管理和综合执法局", "Urban Management Bureau", "city", "CITY", False),
    ("B-WA", "水务局", "Water Affairs Bureau", "city", "CITY", False),
    (
        "B-HR",
        "人力资源和社会保障局",
        "Human Resources and Social Security Bureau",
        "city",
        "CITY",
        False,
    ),
    ("B-TR", "交通运输局", "Transport Bureau", "city", "CITY", False),
    ("D-PJ", "蓬江区政务服务平台", "Pengjiang District platform", "district", "CITY", True),
    ("D-JH", "江海区政务服务平台", "Jianghai District platform", "district", "CITY", True),
    ("D-XH", "新会区政务服务平台", "Xinhui District platform", "district", "CITY", True),
    ("S-BS", "白沙街道办事处", "Baisha Street Office", "street", "D-PJ", False),
    ("S-CL", "潮连街道办事处", "Chaolian Street Office", "street", "D-PJ", False),
    ("S-WH", "外海街道办事处", "Waihai Street Office", "street", "D-JH", False),
    ("S-HC", "会城街道办事处", "Huicheng Street Office", "street", "D-XH", False),
]

USERS = [
    # username, display name, role, department
    ("op1", "接线员 李娜 Li Na", Role.OPERATOR, "CITY"),
    ("op2", "接线员 陈伟 Chen Wei", Role.OPERATOR, "CITY"),
    ("disp1", "派单员 王芳 Wang Fang", Role.DISPATCHER, "CITY"),
    ("disp_pj", "蓬江区派单员 赵强 Zhao Qiang", Role.DISPATCHER, "D-PJ"),
    ("disp_jh", "江海区派单员 孙丽 Sun Li", Role.DISPATCHER, "D-JH"),
    ("disp_xh", "新会区派单员 周杰 Zhou Jie", Role.DISPATCHER, "D-XH"),
    ("sup1", "督办 刘洋 Liu Yang", Role.SUPERVISOR, "CITY"),
    ("cb1", "回访员 许静 Xu Jing", Role.CALLBACK, "CITY"),
    ("lead1", "中心领导 高明 Gao Ming", Role.LEAD, "CITY"),
    ("admin", "管理员 Administrator", Role.ADMIN, "CITY"),
    ("audit1", "审计员 钱芳 Qian Fang", Role.AUDITOR, "CITY"),
    ("centre1", "中心自办 唐宁 Tang Ning", Role.HANDLER, "CENTRE"),
    ("h_mr", "市场监管局 黄敏 Huang Min", Role.HANDLER, "B-MR"),
    ("h_hu", "住建局 吴磊 Wu Lei", Role.HANDLER, "B-HU"),
    ("h_um", "城管局 郑军 Zheng Jun", Role.HANDLER, "B-UM"),
    ("h_wa", "水务局 冯静 Feng Jing", Role.HANDLER, "B-WA"),
    ("h_hr", "人社局 何平 He Ping", Role.HANDLER, "B-HR"),
    ("h_tr", "交通局 马超 Ma Chao", Role.HANDLER, "B-TR"),
    ("h_bs", "白沙街道 林涛 Lin Tao", Role.HANDLER, "S-BS"),
    ("h_cl", "潮连街道 罗霞 Luo Xia", Role.HANDLER, "S-CL"),
    ("h_wh", "外海街道 梁斌 Liang Bin", Role.HANDLER, "S-WH"),
    ("h_hc", "会城街道 宋佳 Song Jia", Role.HANDLER, "S-HC"),
    ("qa1", "质检员 谢婷 Xie Ting", Role.QA, "CITY"),
]

#: the fictional contacts of the demo city, so the demo shows every alert: duty mobiles
#: 1380000xxxx (an SMS needs a mobile), staff mobiles 1390000xxxx, addresses and the one
#: department system on the reserved ``.example`` domain (RFC 2606): nothing here can reach a
#: real person
DEMO_MAIL_DOMAIN = "jiangmen12345.example"
DEMO_WEBHOOKS = {
    "B-MR": (
        "https://oa.market-regulation.example/hotline/webhook",
        "demo-webhook-secret-B-MR-not-for-production",
    ),
}


def demo_department_contacts(index: int, code: str) -> dict[str, str]:
    """The duty phone and e-mail of the ``index``-th demo department, and its webhook."""
    url, secret = DEMO_WEBHOOKS.get(code, ("", ""))
    return {
        "duty_phone": f"1380000{index + 101:04d}",
        "duty_email": f"duty.{code.lower()}@{DEMO_MAIL_DOMAIN}",
        "webhook_url": url,
        "webhook_secret": secret,
    }


def demo_user_contacts(index: int, username: str) -> dict[str, str]:
    """The phone and e-mail of the ``index``-th demo user."""
    return {"phone": f"1390000{index + 1:04d}", "email": f"{username}@{DEMO_MAIL_DOMAIN}"}


#: the consumer-complaint category a merged 12345 line takes over from 12315
CONSUMER_CATEGORY = "消费维权"

#: category rows of the deadline policy: (case type, urgency, category, limits). The 12315
#: rules: accept or refuse a consumer complaint within 7 working days of receipt, end the
#: mediation 45 working days after acceptance. The reply clock starts at dispatch, which is
#: never later than acceptance, so the 45 days are held at least as strictly as the law asks.
#: Urgent and critical consumer complaints keep their case type's shorter hour limits.
CATEGORY_POLICIES = [
    (
        "complaint",
        "normal",
        CONSUMER_CATEGORY,
        {"sign_value": 7, "sign_unit": "workdays", "reply_value": 45, "reply_unit": "workdays"},
    ),
]

DISPATCH_RULES = [
    # category, area, department, priority
    ("食品安全", "*", "B-MR", 0),
    ("药品安全", "*", "B-MR", 0),
    ("价格收费", "*", "B-MR", 0),
    (CONSUMER_CATEGORY, "*", "B-MR", 0),
    ("物业管理", "*", "B-HU", 0),
    ("房屋质量", "*", "B-HU", 0),
    ("占道经营", "*", "B-UM", 0),
    ("占道经营", "D-PJ", "D-PJ", 1),
    ("噪音扰民", "*", "B-UM", 0),
    ("供水停水", "*", "B-WA", 0),
    ("欠薪维权", "*", "B-HR", 0),
    ("社保医保", "*", "B-HR", 0),
    ("公交出租", "*", "B-TR", 0),
    ("道路设施", "D-PJ", "D-PJ", 0),
    ("道路设施", "D-JH", "D-JH", 0),
    ("道路设施", "D-XH", "D-XH", 0),
    ("违法建设", "D-PJ", "D-PJ", 0),
    ("违法建设", "D-JH", "D-JH", 0),
    ("违法建设", "D-XH", "D-XH", 0),
]

ARTICLES = [
    (
        "社保卡补办流程",
        "社保卡 补办 挂失 social security card",
        "社保卡丢失请先拨打12345或到银行网点挂失，携带身份证到任一社保经办网点或合作银行补办，"
        "一般7个工作日内制卡完成。",
        "社保医保",
    ),
    (
        "计划停水查询",
        "停水 供水 water outage",
        "计划停水信息在市水务集团网站和公众号提前24小时公布；突发停水可直接报修，工单转水务局。",
        "供水停水",
    ),
    (
        "食品安全投诉需提供的信息",
        "食品 投诉 12331 food safety",
        "请说明商家名称和地址、购买时间、问题情况，保留票据和实物；涉及身体不适请先就医。",
        "食品安全",
    ),
    (
        "拖欠工资如何维权",
        "欠薪 工资 劳动 unpaid wages",
        "可向人社局劳动保障监察机构投诉，提供劳动合同、考勤、工资条等证据；农民工欠薪优先处理。",
        "欠薪维权",
    ),
    (
        "夜间施工噪音",
        "噪音 施工 夜间 noise",
        "夜间22时至次日6时禁止产生噪声污染的施工，确需连续作业须取得证明；违规施工转城管局查处。",
        "噪音扰民",
    ),
    (
        "物业费争议",
        "物业 收费 业主 property",
        "物业服务收费应公示；对收费标准有异议可向住建局或所在街道反映，涉及合同纠纷可依法诉讼。",
        "物业管理",
    ),
    (
        "公交线路与投诉",
        "公交 线路 司机 bus",
        "公交线路查询可使用城市公交App；对司机服务的投诉请提供线路、车牌和时间。",
        "公交出租",
    ),
    (
        "不予受理的情形",
        "不予受理 110 119 120 emergency",
        "涉及人身安全的紧急警情请直接拨打110、119、120，热线当场转接；已进入诉讼、仲裁程序的事项不予受理。",
        "",
    ),
]


def seed_reference(
    session: Session,
    *,
    clock: Clock,
    years: list[int] | None = None,
    case_types: CaseTypes = BUILTIN,
) -> list[str]:
    """What every installation needs: the deadline policy (the defaults its case types
    declare) and the working-day calendar."""
    added = seed_policies(session, case_types)
    today = clock.now().date()
    years = years or [today.year, today.year + 1]
    days = seed_from_holidays(session, years=years, clock=clock)
    return [
        f"deadline policy: {added} rows added",
        f"calendar: {days} holiday and working-day exceptions for {', '.join(map(str, years))}",
    ]


def seed_demo_city(session: Session, *, clock: Clock, password_hash: str = "") -> list[str]:
    """The demo departments, users, dispatch catalogue and knowledge base (idempotent).

    ``password_hash`` is given to every demo user (the web app passes the hash of "demo").
    """
    by_code: dict[str, Department] = {d.code: d for d in session.scalars(select(Department))}
    added = 0
    for index, (code, name, name_en, level, parent, platform) in enumerate(DEPARTMENTS):
        if code in by_code:
            continue
        dept = Department(
            code=code,
            name=name,
            name_en=name_en,
            level=level,
            parent_id=by_code[parent].id if parent else None,
            is_platform=platform,
            active=True,
            **demo_department_contacts(index, code),
        )
        session.add(dept)
        session.flush()
        by_code[code] = dept
        added += 1
    users = 0
    for index, (username, display, role, dept) in enumerate(USERS):
        if by_username(session, username) is None:
            create_user(
                session,
                username=username,
                display_name=display,
                role=role,
                clock=clock,
                department=by_code[dept],
                password_hash=password_hash,
                **demo_user_contacts(index, username),
            )
            users += 1
    if by_username(session, PBX_USERNAME) is None:
        create_user(
            session,
            username=PBX_USERNAME,
            display_name="电话系统 Phone system",
            role=Role.TELEPHONY,
            clock=clock,
        )
        users += 1
    rules = 0
    if session.scalar(select(DispatchRule.id).limit(1)) is None:
        for category, area, dept, priority in DISPATCH_RULES:
            session.add(
                DispatchRule(
                    category=category, area=area, department_id=by_code[dept].id, priority=priority
                )
            )
            rules += 1
    policies = _seed_category_policies(session)
    articles = 0
    if session.scalar(select(Article.id).limit(1)) is None:
        for title, keywords, body, category in ARTICLES:
            session.add(
                Article(
                    title=title,
                    keywords=keywords,
                    body=body,
                    category=category,
                    active=True,
                    updated_at=clock.now(),
                )
            )
            articles += 1
    session.flush()
    return [
        f"demo city: {added} departments, {users} users, {rules} dispatch rules, "
        f"{articles} knowledge articles, {policies} category deadline rows"
    ]


def _seed_category_policies(session: Session) -> int:
    """The demo's category rows, each a copy of its default row with the category's limits;
    skipped where the row exists (an administrator's edits stay) or has no default row."""
    added = 0
    for case_type, urgency, category, limits in CATEGORY_POLICIES:
        rows = {
            p.category: p
            for p in session.scalars(
                select(DeadlinePolicy).where(
                    DeadlinePolicy.case_type == case_type, DeadlinePolicy.urgency == urgency
                )
            )
        }
        default = rows.get("")
        if category in rows or default is None:
            continue
        values = {name: getattr(default, name) for name in EDITABLE}
        session.add(
            DeadlinePolicy(
                case_type=case_type, urgency=urgency, category=category, **{**values, **limits}
            )
        )
        added += 1
    session.flush()
    return added


def demo_years(today: date) -> list[int]:
    return [today.year - 1, today.year, today.year + 1]
