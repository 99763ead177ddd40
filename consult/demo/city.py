"""The demo city 海滨市: who lives in it, built deterministically so reruns change nothing.

The demo logins below are the only accounts with passwords; they exist only in the demo.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from consult.models import Bureau
from consult.people import services
from consult.people.roles import Chamber, Role

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "demo"
DEMO_PASSWORD = "demo1234"
SEED = 2027

NPC_TERM = "海滨市第十六届人民代表大会"
CPPCC_TERM = "政协海滨市第十四届委员会"
DISTRICTS = ["东湖区", "西江区", "南港区", "北山区", "中心区"]
ROADS = ["人民路", "建设路", "滨海大道", "中山路", "解放路"]
CPPCC_SECTORS = [
    "中国共产党",
    "民革",
    "民盟",
    "民建",
    "民进",
    "农工党",
    "致公党",
    "九三学社",
    "无党派人士",
    "共青团",
    "工商联",
    "科学技术界",
    "经济界",
    "教育界",
    "文化艺术界",
    "医药卫生界",
    "社会福利和社会保障界",
]
OCCUPATIONS = [
    "东湖区翠湖街道社区卫生服务中心主任",
    "海滨港务集团有限公司高级工程师",
    "海滨市第一人民医院副院长",
    "西江区实验小学校长",
    "南港区渔业合作社理事长",
    "北山区青山村党支部书记",
    "海滨大学经济学院教授",
    "海滨律师事务所主任",
    "海滨电子科技有限公司董事长",
    "中心区和平里社区居委会主任",
    "海滨市公交集团驾驶员",
    "海滨市第三中学教师",
    "海滨农商银行行长",
    "海滨日报社记者",
    "海滨市中医医院主任医师",
    "南港区物流园区管委会副主任",
    "海滨市建筑设计研究院总建筑师",
    "东湖区养老服务中心院长",
    "西江区个体工商户",
    "海滨市妇幼保健院护士长",
]
EXPERT_TITLES = ["处长", "副处长", "一级调研员", "二级调研员", "一级主任科员", "高级工程师"]
HANDLER_TITLES = ["建议提案办理联络员", "综合处副处长", "办公室主任", "一级主任科员"]
SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = list(
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红玉兰文斌宇浩凯鹏飞雪梅海燕晨阳思远嘉怡子涵欣悦博文俊杰雨萱慧琳"
)


@dataclass(frozen=True)
class DemoLogin:
    username: str
    full_name: str
    role: Role
    description: str


DEMO_LOGINS = [
    DemoLogin("deputy", "王建国", Role.DEPUTY, "人大代表（东湖区代表团）"),
    DemoLogin("member", "李雪梅", Role.DEPUTY, "政协委员（医药卫生界）"),
    DemoLogin("expert", "陈志远", Role.EXPERT, "市教委 应询专家"),
    DemoLogin("handler", "刘芳", Role.HANDLER, "市交通委 承办人（办理牵头人）"),
    DemoLogin("staff", "赵敏", Role.STAFF, "人大常委会代表工作室 工作人员"),
    DemoLogin("admin", "系统管理员", Role.ADMIN, "系统管理员（Django admin）"),
]


@dataclass(frozen=True)
class SeedCounts:
    bureaus: int
    experts: int
    handlers: int
    deputies: int
    office: int


def load_bureaus() -> list[dict[str, object]]:
    with open(FIXTURES / "bureaus.json", encoding="utf-8") as fh:
        return list(json.load(fh))


class _Names:
    """Distinct, realistic Chinese names from a fixed seed."""

    def __init__(self, rng: random.Random, taken: set[str]) -> None:
        self.rng, self.taken = rng, set(taken)

    def next(self) -> str:
        while True:
            given = "".join(self.rng.choice(GIVEN) for _ in range(self.rng.choice((1, 2, 2))))
            name = self.rng.choice(SURNAMES) + given
            if name not in self.taken:
                self.taken.add(name)
                return name


@transaction.atomic
def seed_people() -> SeedCounts:
    """Create (or refresh) bureaus, bureau people, deputies, members, staff and the demo logins."""
    rng = random.Random(SEED)
    names = _Names(rng, {login.full_name for login in DEMO_LOGINS})
    bureaus = _seed_bureaus()
    experts = _seed_bureau_people(rng, names, bureaus)
    deputies = _seed_deputies(rng, names)
    office = _seed_office(names)
    _seed_demo_logins(bureaus)
    return SeedCounts(len(bureaus), experts[0], experts[1], deputies, office)


def _seed_bureaus() -> list[Bureau]:
    return [
        services.upsert_bureau(
            code=str(item["code"]),
            name=str(item["name"]),
            full_name=str(item["full_name"]),
            topics=list(item["topics"]),  # type: ignore[call-overload]
            departments=list(item["departments"]),  # type: ignore[call-overload]
            sort_order=index,
        )
        for index, item in enumerate(load_bureaus())
    ]


def _seed_bureau_people(rng: random.Random, names: _Names, bureaus: list[Bureau]) -> tuple[int, int]:
    experts = handlers = 0
    for bureau in bureaus:
        departments = list(bureau.departments.all())
        for index in range(3 if bureau.sort_order % 3 == 0 else 2):
            topics = rng.sample(bureau.topics, k=min(2, len(bureau.topics)))
            post = services.BureauPost(
                bureau=bureau, department=rng.choice(departments), title=rng.choice(EXPERT_TITLES), expertise=topics
            )
            services.enroll_expert(username=f"expert-{bureau.code}-{index + 1}", full_name=names.next(), post=post)
            experts += 1
        for index in range(2):
            post = services.BureauPost(bureau=bureau, department=departments[0], title=rng.choice(HANDLER_TITLES))
            services.enroll_handler(
                username=f"handler-{bureau.code}-{index + 1}",
                full_name=names.next(),
                post=post,
                is_bureau_lead=index == 0,
            )
            handlers += 1
    return experts, handlers


def _contact(rng: random.Random, number: int) -> services.ContactDetails:
    district, road = rng.choice(DISTRICTS), rng.choice(ROADS)
    return services.ContactDetails(
        mobile=f"13{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}",
        email=f"rep{number:04d}@haibin.example.cn",
        address=f"海滨市{district}{road}{rng.randint(1, 300)}号",
        postcode=f"3{rng.randint(10, 99)}0{rng.randint(10, 99)}",
    )


def _seed_deputies(rng: random.Random, names: _Names) -> int:
    count = 0
    for number in range(1, 121):
        services.enroll_deputy(
            username=f"npc-{number:03d}",
            full_name=names.next(),
            chamber=Chamber.NPC,
            term=NPC_TERM,
            delegation=f"{DISTRICTS[number % len(DISTRICTS)]}代表团",
            occupation=rng.choice(OCCUPATIONS),
            contact=_contact(rng, number),
        )
        count += 1
    for number in range(1, 81):
        services.enroll_deputy(
            username=f"cppcc-{number:03d}",
            full_name=names.next(),
            chamber=Chamber.CPPCC,
            term=CPPCC_TERM,
            sector=CPPCC_SECTORS[number % len(CPPCC_SECTORS)],
            occupation=rng.choice(OCCUPATIONS),
            contact=_contact(rng, 500 + number),
        )
        count += 1
    return count


def _seed_office(names: _Names) -> int:
    for number in range(1, 5):
        services.enroll_office_user(username=f"staff-{number:02d}", full_name=names.next())
    return 4


def _seed_demo_logins(bureaus: list[Bureau]) -> None:
    by_name = {bureau.name: bureau for bureau in bureaus}
    credentials = services.Credentials(password=DEMO_PASSWORD)
    deputy, member, expert, handler, staff, admin = DEMO_LOGINS
    services.enroll_deputy(
        username=deputy.username,
        full_name=deputy.full_name,
        chamber=Chamber.NPC,
        term=NPC_TERM,
        delegation="东湖区代表团",
        occupation="东湖区翠湖街道社区卫生服务中心主任",
        contact=services.ContactDetails(
            mobile="13800138000",
            email="wangjianguo@haibin.example.cn",
            address="海滨市东湖区翠湖路18号",
            postcode="310012",
        ),
        credentials=credentials,
    )
    services.enroll_deputy(
        username=member.username,
        full_name=member.full_name,
        chamber=Chamber.CPPCC,
        term=CPPCC_TERM,
        sector="医药卫生界",
        occupation="海滨市第一人民医院副院长",
        contact=services.ContactDetails(mobile="13900139000", email="lixuemei@haibin.example.cn"),
        credentials=credentials,
    )
    education = by_name["市教委"]
    services.enroll_expert(
        username=expert.username,
        full_name=expert.full_name,
        credentials=credentials,
        post=services.BureauPost(
            bureau=education,
            department=education.departments.first(),
            title="基础教育处处长",
            expertise=["学区划分", "义务教育", "课后服务"],
        ),
    )
    transport = by_name["市交通委"]
    services.enroll_handler(
        username=handler.username,
        full_name=handler.full_name,
        credentials=credentials,
        is_bureau_lead=True,
        post=services.BureauPost(
            bureau=transport, department=transport.departments.first(), title="建议提案办理联络员"
        ),
    )
    services.enroll_office_user(username=staff.username, full_name=staff.full_name, credentials=credentials)
    services.enroll_office_user(
        username=admin.username, full_name=admin.full_name, role=Role.ADMIN, credentials=credentials
    )
