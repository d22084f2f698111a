"""Who and what the generated history is about: departments, evaluations, findings' wording."""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

from domain.values import Actor, Role

COUNTIES = [
    ("LX", "泸溪县"), ("FH", "凤凰县"), ("HY", "花垣县"), ("BJ", "保靖县"), ("GZ", "古丈县"),
    ("YS", "永顺县"), ("LS", "龙山县"), ("JS", "吉首市"), ("YL", "沅陵县"), ("CX", "辰溪县"),
    ("XP", "溆浦县"), ("MY", "麻阳县"), ("XH", "新晃县"), ("ZJ", "芷江县"),
]  # fmt: skip
BUREAUS = [
    ("SLJ", "水利局", "农村饮水安全巩固提升工程"),
    ("JYJ", "教育局", "义务教育薄弱环节改善与能力提升"),
    ("WJJ", "卫生健康局", "基层医疗卫生服务能力提升"),
    ("NYJ", "农业农村局", "耕地地力保护补贴"),
    ("JTJ", "交通运输局", "农村公路建设养护"),
    ("ZJJ", "住房和城乡建设局", "城镇老旧小区改造"),
    ("MZJ", "民政局", "困难群众救助补助"),
    ("RSJ", "人力资源和社会保障局", "就业补助资金"),
    ("ZRJ", "自然资源局", "土地综合整治"),
    ("STJ", "生态环境局", "农村环境综合整治"),
    ("WLJ", "文化旅游广电局", "公共文化服务体系建设"),
    ("LYJ", "林业局", "森林生态效益补偿"),
    ("SJJ", "市场监督管理局", "食品安全监督抽检"),
    ("YJJ", "应急管理局", "自然灾害防治能力建设"),
    ("XCJ", "乡村振兴局", "衔接推进乡村振兴补助资金"),
]
OBJECT_TYPES = [("project", "PJ", "项目支出"), ("department", "BM", "部门整体支出"),
                ("policy", "ZC", "政策"), ("transfer", "ZY", "转移支付资金")]  # fmt: skip
OBJECT_WEIGHTS = [60, 15, 15, 10]
# (category, description with {n} {p} {m} placeholders, requirement)
PROBLEMS = [
    ("过程/预算执行率低", "年终预算执行率为{p}%，执行进度较慢", "加快资金拨付，按月报送执行情况"),
    ("决策/绩效目标设置不合理", "{n}项产出指标未细化量化", "细化量化绩效指标，报财政局备案"),
    ("过程/管理制度不健全", "{n}个村组长效管护机制未建立", "建立长效管护机制，明确管护责任"),
    ("过程/资金闲置沉淀", "结转资金{m}万元闲置超过一年", "清理结转资金，按规定收回统筹"),
    ("产出/产出未达标", "{n}个村组水质检测未按季度开展", "补齐检测，公开检测结果"),
    ("效益/满意度低", "受益群众满意度调查得分{p}分，低于目标值", "扩大样本，委托第三方开展调查"),
    ("过程/资金管理不规范", "项目资金{m}万元与其他资金混用，未单独核算", "设立专账，单独核算"),
    ("效益/效益不明显", "{n}台（套）设备闲置，效益不明显", "盘活闲置设备，调剂使用"),
]  # fmt: skip
CLASSES = ["立行立改", "分阶段整改", "持续整改"]
CLASS_WEIGHTS = [50, 35, 15]
PEOPLE = ["张建国", "李秀英", "王志强", "刘芳", "陈明", "杨丽", "赵军", "黄敏", "周涛", "吴静"]
EVALUATORS = tuple(Actor(f"pingjia.{n:02d}", Role.EVALUATOR) for n in range(1, 21))
SUPERVISOR = Actor("jiandu.zhao", Role.SUPERVISOR)
SCHEDULER = Actor("scheduler", Role.SYSTEM)
ADMIN = Actor("admin", Role.ADMIN)


@dataclass(frozen=True)
class DepartmentSpec:
    """One department to register, and the user who acts for it."""

    code: str
    name: str
    topic: str
    email: str

    @property
    def user(self) -> Actor:
        return Actor(f"{self.code.lower()}.jingban", Role.DEPARTMENT)

    @property
    def county(self) -> str:
        return self.name[:3]


def department_specs(count: int) -> list[DepartmentSpec]:
    """Counties × bureaus, numbered past the first 210 so any count is possible."""
    specs = []
    for n in range(count):
        round_, rest = divmod(n, len(COUNTIES) * len(BUREAUS))
        (county, county_name), (bureau, bureau_name, topic) = (
            COUNTIES[rest // len(BUREAUS)],
            BUREAUS[rest % len(BUREAUS)],
        )
        prefix = f"{county}{round_ + 1}" if round_ else county
        domain = f"{prefix.lower()}.example.gov.cn"
        email = f"{bureau.lower()}@{domain}"
        specs.append(DepartmentSpec(f"{prefix}-{bureau}", county_name + bureau_name, topic, email))
    return specs


def evaluation_fields(
    rng: random.Random, n: int, department: DepartmentSpec, year: int
) -> dict[str, object]:
    """The fields of one evaluation recorded for the department in that year."""
    kind, code, label = rng.choices(OBJECT_TYPES, OBJECT_WEIGHTS)[0]
    subject = department.name if kind == "department" else department.topic
    return {
        "ref": f"{department.code}-{year}-{code}-{n:04d}",
        "title": f"{year}年{subject}{label}绩效评价",
        "year": year,
        "object_type": kind,
        "department": department.code,
        "budget_amount": Decimal(rng.randrange(50_000_000, 5_000_000_000)).scaleb(-2),
        "score": Decimal(rng.randrange(450, 985)).scaleb(-1),
    }


def problem(rng: random.Random) -> tuple[str, str, str, str]:
    """(description, category, class label, requirement) of one finding."""
    category, template, requirement = rng.choice(PROBLEMS)
    description = template.format(
        n=rng.randint(2, 40), p=f"{rng.uniform(40, 85):.2f}", m=f"{rng.uniform(3, 900):.1f}"
    )
    return description, category, rng.choices(CLASSES, CLASS_WEIGHTS)[0], requirement


def amount_recovered(rng: random.Random, category: str) -> Decimal:
    """Money recovered or redirected by a rectification: only money problems recover any."""
    if "资金" not in category:
        return Decimal("0.00")
    return Decimal(rng.randrange(100_000, 90_000_000)).scaleb(-2)


def sha256_of(rng: random.Random) -> str:
    return f"{rng.getrandbits(256):064x}"
