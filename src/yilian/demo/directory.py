"""What `yilian demo load` holds (DESIGN §6): real institutions, fictional people.

The tables of institutions, consortia and departments come from the two seed articles. The
people are drawn from them by seeded generators (one per kind of row), so every run plans
the same people, and the first N residents of a larger run are those of a smaller one.
Names of real people in the seeds are kept out of the generated ones.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final

from yilian.directory import rules
from yilian.directory.rules import ConsortiumKind, MembershipRole, Sex, Tier, Title

SEED: Final = "yilian-demo-1"
TIANLIN_EVERY: Final = 5  # every fifth resident lives in 田林: the centre the demo walks through
GENERAL_PRACTICE: Final = "全科"
COMMUNITY_CENTRE: Final = "社区卫生服务中心"

# GB/T 2260 area codes of the districts whose residents the demo registers.
AREA_CODES: Final = {"徐汇区": "310104", "金山区": "310116", "崇明区": "310151"}


@dataclass(frozen=True)
class InstitutionSpec:
    name: str
    tier: Tier
    district: str
    address: str = ""
    description: str = ""
    departments: tuple[str, ...] = ()  # a community centre has only 全科
    streets: tuple[str, ...] = ()  # where a centre's residents live


@dataclass(frozen=True)
class MemberSpec:
    institution: str
    role: MembershipRole
    joined_on: date


@dataclass(frozen=True)
class ConsortiumSpec:
    name: str
    kind: ConsortiumKind
    lead: str
    description: str
    members: tuple[MemberSpec, ...]


@dataclass(frozen=True)
class DepartmentSpec:
    description: str
    specialties: tuple[str, ...]


@dataclass(frozen=True)
class PractitionerSpec:
    """One practitioner. The named ones are those demo accounts sign in as; colleagues are generated."""

    institution: str
    department: str
    name: str
    title: Title
    specialties: tuple[str, ...]
    expert: bool
    profile: str


def _centre(town: str, district: str, streets: tuple[str, ...] = ()) -> InstitutionSpec:
    roads = streets or tuple(f"{town}{road}" for road in ("人民路", "新华路", "健康路"))
    return InstitutionSpec(
        name=f"{town}{COMMUNITY_CENTRE}",
        tier=Tier.COMMUNITY,
        district=district,
        description=f"{district}{town}的社区卫生服务中心：全科门诊、家庭医生签约、慢性病管理和康复。",
        departments=(GENERAL_PRACTICE,),
        streets=roads,
    )


def _department(description: str, specialties: str) -> DepartmentSpec:
    return DepartmentSpec(description, tuple(specialties.split()))


def _hospital(
    name: str, tier: Tier, district: str, address: str, description: str, departments: tuple[str, ...]
) -> InstitutionSpec:
    return InstitutionSpec(name, tier, district, address, description, departments)


SIXTH: Final = "上海市第六人民医院"
EIGHTH: Final = "上海市第八人民医院"
JINSHAN: Final = "复旦大学附属金山医院"
CHILDREN: Final = "复旦大学附属儿科医院"
FIFTH: Final = "复旦大学附属上海市第五人民医院"
QINGPU: Final = "复旦大学附属中山医院青浦分院"
RUIJIN: Final = "上海交通大学医学院附属瑞金医院"
XINHUA: Final = "上海交通大学医学院附属新华医院"
XINHUA_CHONGMING: Final = "上海交通大学医学院附属新华医院崇明分院"
HAEMATOLOGY_PARTNERS: Final = (
    ("江西省人民医院", "江西省南昌市"),
    ("云南省第一人民医院", "云南省昆明市"),
    ("安徽省立医院", "安徽省合肥市"),
    ("新疆医科大学第一附属医院", "新疆乌鲁木齐市"),
)

XUHUI_CENTRES: Final = (
    _centre("田林", "徐汇区", ("田林路", "钦州路", "柳州路", "宜山路")),
    _centre("虹梅", "徐汇区", ("虹梅路", "桂林路", "漕宝路")),
    _centre("康健", "徐汇区", ("康健路", "浦北路", "虹漕南路")),
    _centre("漕河泾", "徐汇区", ("漕溪路", "龙漕路", "漕宝路")),
    _centre("龙华", "徐汇区", ("龙华路", "龙华西路", "龙吴路")),
)
JINSHAN_TOWNS: Final = "金山卫镇 张堰镇 朱泾镇 枫泾镇 亭林镇 吕巷镇 廊下镇 漕泾镇 山阳镇 石化街道 金山工业区"
JINSHAN_CENTRES: Final = tuple(_centre(town, "金山区") for town in JINSHAN_TOWNS.split())
CHONGMING_CENTRES: Final = tuple(_centre(town, "崇明区") for town in ("城桥镇", "堡镇", "陈家镇", "新河镇"))

HOSPITALS: Final = (
    _hospital(
        SIXTH,
        Tier.TERTIARY,
        "徐汇区",
        "宜山路600号",
        "徐汇区—市六医院医疗联合体的核心医院，内分泌科、骨科享誉全国；致力于疑难危重病例救治和学科引领。",
        ("内分泌科", "骨科", "妇产科", "心内科", "消化内科", "神经内科", "呼吸内科", "普外科"),
    ),
    _hospital(
        EIGHTH,
        Tier.SECONDARY,
        "徐汇区",
        "漕宝路8号",
        "由市六医院托管的徐汇区区域医疗中心，承担常见病多发病诊治、康复保健和全科医生培训。",
        ("内分泌科", "骨科", "心内科", "消化内科", "呼吸内科", "普外科", "康复医学科"),
    ),
    _hospital(
        JINSHAN,
        Tier.TERTIARY,
        "金山区",
        "龙航路1508号",
        "远郊金山区内唯一一所三级综合性医院，设胸痛中心、心脏介入中心和急危重病中心。",
        ("心内科", "急诊科", "普外科", "肿瘤科", "消化内科", "儿科", "呼吸内科", "神经内科"),
    ),
    _hospital(
        CHILDREN,
        Tier.TERTIARY,
        "闵行区",
        "万源路399号",
        "复旦儿科医联体的牵头医院，向成员医院输出儿科诊疗规范和适宜技术。",
        ("新生儿科", "小儿呼吸科", "小儿消化科", "小儿心血管科", "小儿血液科"),
    ),
    _hospital(
        FIFTH,
        Tier.TERTIARY,
        "闵行区",
        "鹤庆路801号",
        "闵行区的三级综合性医院。",
        ("儿科", "心内科", "妇产科"),
    ),
    _hospital(QINGPU, Tier.SECONDARY, "青浦区", "", "青浦区的综合性医院。", ("儿科", "消化内科")),
    _hospital(
        RUIJIN,
        Tier.TERTIARY,
        "黄浦区",
        "瑞金二路197号",
        "牵头全国首个血液专科医联体，与全国各地医院建立合作关系。",
        ("血液科", "内分泌科", "心内科", "消化内科", "普外科"),
    ),
    *(
        _hospital(name, Tier.TERTIARY, place, "", "瑞金医院血液专科医联体的外省成员医院。", ("血液科",))
        for name, place in HAEMATOLOGY_PARTNERS
    ),
    _hospital(
        XINHUA,
        Tier.TERTIARY,
        "杨浦区",
        "控江路1665号",
        "新华—崇明区域医疗联合体的牵头医院。",
        ("儿科", "心内科", "消化内科", "普外科", "神经内科", "妇产科"),
    ),
    _hospital(
        XINHUA_CHONGMING,
        Tier.TERTIARY,
        "崇明区",
        "",
        "崇明岛上的综合性医院，新华—崇明区域医疗联合体的骨干。",
        ("心内科", "呼吸内科", "骨科", "普外科"),
    ),
)
INSTITUTIONS: Final = (*HOSPITALS, *XUHUI_CENTRES, *JINSHAN_CENTRES, *CHONGMING_CENTRES)
CENTRES: Final = (*XUHUI_CENTRES, *JINSHAN_CENTRES, *CHONGMING_CENTRES)
TIANLIN: Final = XUHUI_CENTRES[0].name
XUHUI_CONSORTIUM: Final = "徐汇区—市六医院医疗联合体"


def _members(
    lead: str, others: tuple[str, ...], joined_on: date, backbone: tuple[str, ...] = ()
) -> tuple[MemberSpec, ...]:
    core = MemberSpec(lead, MembershipRole.CORE, joined_on)
    middle = tuple(MemberSpec(name, MembershipRole.BACKBONE, joined_on) for name in backbone)
    rest = tuple(MemberSpec(name, MembershipRole.MEMBER, joined_on) for name in others)
    return (core, *middle, *rest)


CONSORTIA: Final = (
    ConsortiumSpec(
        XUHUI_CONSORTIUM,
        ConsortiumKind.REGIONAL,
        SIXTH,
        "以市六医院为核心、市八医院为骨干，联合田林、虹梅、康健、漕河泾、龙华5家社区卫生服务中心的紧密型医联体，"
        "形成“3+2+1”分级诊疗体系。六院专家门诊预留10%–20%的专属社区号源，供家庭医生为签约居民预约；"
        "经区域平台转诊的住院申请自动标记“社区签约”，住院排队可“合理插队”。",
        _members(SIXTH, tuple(c.name for c in XUHUI_CENTRES), date(2015, 12, 1), backbone=(EIGHTH,)),
    ),
    ConsortiumSpec(
        "金山区医疗联合体",
        ConsortiumKind.REGIONAL,
        JINSHAN,
        "由区卫生计生委牵头，金山医院与区内十一家社区卫生服务中心共同打造的远郊医联体："
        "胸痛中心绿色通道、“金山心梗救治群”、联合查房和专家会诊，与金山卫镇、张堰镇社区卫生服务中心共建联合病房。",
        _members(JINSHAN, tuple(c.name for c in JINSHAN_CENTRES), date(2016, 3, 1)),
    ),
    ConsortiumSpec(
        "复旦儿科医联体",
        ConsortiumKind.SPECIALTY,
        CHILDREN,
        "复旦大学医学院和儿科医院共同发起的儿科专科医联体，成员医院覆盖全市多个区，"
        "推广儿科适宜技术，让孩子在家门口享受儿科医院医生的“同质化”诊疗。",
        _members(CHILDREN, (QINGPU, FIFTH, JINSHAN), date(2015, 1, 15)),
    ),
    ConsortiumSpec(
        "瑞金医院血液专科医联体",
        ConsortiumKind.RADIATING,
        RUIJIN,
        "瑞金医院牵头的全国首个血液专科医联体，以教育培训、科研合作和疑难重症转诊会诊为主要合作形式，"
        "通过远程服务将优质医疗资源辐射全国。",
        _members(RUIJIN, tuple(name for name, _ in HAEMATOLOGY_PARTNERS), date(2017, 6, 1)),
    ),
    ConsortiumSpec(
        "新华—崇明区域医疗联合体",
        ConsortiumKind.REGIONAL,
        XINHUA,
        "2018年1月19日启动的“以健康为中心”紧密型医联体试点，整合医疗卫生资源，"
        "为70万崇明居民在岛内解决基本医疗和健康服务。",
        _members(
            XINHUA, tuple(c.name for c in CHONGMING_CENTRES), date(2018, 1, 19), backbone=(XINHUA_CHONGMING,)
        ),
    ),
)

# Family doctors read these before booking (seed 003: 科室介绍、专家介绍).
DEPARTMENTS: Final = {
    "心内科": _department(
        "诊治冠心病、高血压、心律失常、心力衰竭等心血管疾病，开展冠脉介入和起搏器植入。",
        "冠心病 高血压 心律失常 心力衰竭 急性心肌梗死 冠脉介入治疗",
    ),
    "内分泌科": _department(
        "诊治糖尿病、甲状腺疾病、骨质疏松等内分泌代谢病，开展糖尿病综合管理与社区随访。",
        "糖尿病 甲状腺疾病 骨质疏松 肥胖症 糖尿病并发症",
    ),
    "妇产科": _department(
        "妇科常见病、妇科肿瘤、围产期保健和更年期保健。",
        "子宫肌瘤 妇科肿瘤 高危妊娠 更年期综合征 月经失调 盆底功能障碍",
    ),
    "骨科": _department(
        "创伤骨科、关节外科和脊柱外科，开展关节置换、脊柱微创手术和创面修复。",
        "骨折创伤 关节置换 脊柱退行性疾病 运动损伤 骨质疏松性骨折 创面修复",
    ),
    "消化内科": _department(
        "胃肠、肝胆胰疾病的诊治，开展胃镜、肠镜检查和内镜下微创治疗。",
        "胃食管反流病 消化性溃疡 炎症性肠病 肝硬化 消化道早癌内镜治疗",
    ),
    "儿科": _department(
        "儿童常见病、多发病的诊治，儿童生长发育评估与保健。",
        "小儿呼吸道感染 小儿腹泻 儿童哮喘 儿童生长发育 新生儿黄疸",
    ),
    "血液科": _department(
        "贫血、白血病、淋巴瘤、骨髓瘤等血液病的诊治，开展造血干细胞移植。",
        "急性白血病 淋巴瘤 多发性骨髓瘤 再生障碍性贫血 造血干细胞移植",
    ),
    "普外科": _department(
        "胃肠、肝胆、甲状腺乳腺和疝等普通外科疾病，开展腹腔镜微创手术。",
        "胃肠肿瘤 胆囊结石 甲状腺结节 腹股沟疝 腹腔镜手术 结直肠癌",
    ),
    "神经内科": _department(
        "脑血管病、癫痫、帕金森病、痴呆等神经系统疾病，开展卒中急诊溶栓。",
        "脑卒中 癫痫 帕金森病 阿尔茨海默病 头痛 眩晕",
    ),
    "呼吸内科": _department(
        "慢性阻塞性肺疾病、哮喘、肺部感染、肺结节等呼吸系统疾病，开展支气管镜检查和肺康复。",
        "慢性阻塞性肺疾病 支气管哮喘 肺部感染 肺结节 睡眠呼吸暂停",
    ),
    "肿瘤科": _department(
        "实体肿瘤的化疗、靶向与免疫治疗，多学科会诊制定综合治疗方案。",
        "肺癌 结直肠癌 胃癌 肿瘤介入治疗 姑息治疗",
    ),
    "急诊科": _department(
        "急危重症救治，与ICU一体化管理，承担胸痛、卒中等急诊绿色通道。",
        "急性胸痛 多发伤 休克 心肺复苏 急性中毒",
    ),
    "康复医学科": _department(
        "神经康复、骨科术后康复和心肺康复，承接病情稳定患者的康复治疗。",
        "脑卒中康复 骨科术后康复 心肺康复 疼痛康复",
    ),
    "新生儿科": _department(
        "早产儿和危重新生儿的救治与随访。", "早产儿 新生儿呼吸窘迫 新生儿黄疸 新生儿感染"
    ),
    "小儿呼吸科": _department(
        "儿童呼吸系统疾病的诊治和哮喘长期管理。", "儿童哮喘 肺炎支原体感染 慢性咳嗽 过敏性鼻炎"
    ),
    "小儿消化科": _department(
        "儿童消化系统疾病的诊治和营养评估。", "小儿腹泻 功能性腹痛 儿童炎症性肠病 婴儿胃食管反流"
    ),
    "小儿心血管科": _department(
        "先天性心脏病和儿童心血管疾病的诊治。", "先天性心脏病 川崎病 心肌炎 儿童心律失常"
    ),
    "小儿血液科": _department("儿童血液病和血液肿瘤的诊治。", "儿童白血病 缺铁性贫血 血小板减少症 血友病"),
    GENERAL_PRACTICE: _department(
        "全科门诊、慢性病管理、家庭医生签约服务和健康体检；为签约居民预约医联体医院的专家门诊并办理双向转诊。",
        "高血压 糖尿病 慢性阻塞性肺疾病 老年慢病管理 社区康复 儿童保健 "
        "妇女保健 心电图判读 脑卒中康复 健康教育 安宁疗护",
    ),
}

NAMED_PRACTITIONERS: Final = (
    PractitionerSpec(
        TIANLIN,
        GENERAL_PRACTICE,
        "陈佳怡",
        Title.ATTENDING,
        ("高血压", "糖尿病", "老年慢病管理"),
        False,
        "田林社区卫生服务中心家庭医生。负责田林街道签约居民的健康管理，擅长高血压、糖尿病的长期随访。",
    ),
    PractitionerSpec(
        "康健社区卫生服务中心",
        GENERAL_PRACTICE,
        "王志刚",
        Title.ATTENDING,
        ("慢性阻塞性肺疾病", "社区康复"),
        False,
        "康健社区卫生服务中心家庭医生。擅长慢阻肺患者的社区管理和康复指导。",
    ),
    PractitionerSpec(
        "金山卫镇社区卫生服务中心",
        GENERAL_PRACTICE,
        "沈建华",
        Title.ATTENDING,
        ("心电图判读", "高血压", "安宁疗护"),
        False,
        "金山卫镇社区卫生服务中心家庭医生。在社区完成心电图检查并通过平台传给金山医院心内科，参与联合病房的随访。",
    ),
    PractitionerSpec(
        SIXTH,
        "妇产科",
        "林雅琴",
        Title.CHIEF,
        ("更年期综合征", "绝经激素治疗", "围绝经期保健"),
        True,
        "主任医师，教授，从事妇产科临床工作三十余年，擅长更年期综合征和绝经相关疾病的诊治。"
        "每周一上午更年期专家门诊，每次30个号，其中6个留给社区家庭医生为签约居民预约。",
    ),
    PractitionerSpec(
        JINSHAN,
        "心内科",
        "顾立新",
        Title.CHIEF,
        ("急性心肌梗死", "冠脉介入治疗", "胸痛中心"),
        True,
        "主任医师，擅长急性心肌梗死的急诊介入治疗。参与胸痛中心值班，接收社区传来的心电图并开通绿色通道。",
    ),
)

# Real people named in the seeds: never generated as demo practitioners.
RESERVED_NAMES: Final = frozenset({"龚辉", "陈刚", "周平红", "贾伟平", "陶敏芳", "陈明"})

SURNAMES: Final = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方邹孟熊秦邱江薛顾毛龚邵钱严戴倪施俞蒋"
)
MALE_CHARS: Final = "伟强磊军勇杰涛明超刚平辉鹏华飞波斌宇浩凯健俊帆旭宁龙林阳建国志文晨峰海东荣德胜永"
FEMALE_CHARS: Final = "芳娜敏静丽艳娟霞秀玲桂英红梅琳燕萍雪慧颖洁佳倩婷琴云莉兰凤月瑶怡蕾欣悦珍"
WEEKDAYS: Final = "一二三四五"


# --- the plans: pure and deterministic --------------------------------------------------------


@dataclass(frozen=True)
class ResidentPlan:
    centre: str
    doctor: str  # a family doctor of the centre, by name
    name: str
    sex: Sex
    birth_date: date
    id_number: str
    phone: str
    address: str
    signed_days_ago: int


def _generator(kind: str) -> random.Random:
    """One seeded generator per kind of row, so that changing one kind does not reshuffle another."""
    return random.Random(f"{SEED}:{kind}")  # reproducible demo data, not secrets


def _person_name(rng: random.Random, sex: Sex) -> str:
    chars = MALE_CHARS if sex is Sex.MALE else FEMALE_CHARS
    given = rng.sample(chars, k=1 if rng.random() < 0.3 else 2)
    return rng.choice(SURNAMES) + "".join(given)


def _fresh_name(rng: random.Random, taken: set[str]) -> str:
    while (name := _person_name(rng, rng.choice(tuple(Sex)))) in taken:
        pass
    taken.add(name)
    return name


def _colleague(
    rng: random.Random, institution: InstitutionSpec, department: str, name: str, *, expert: bool
) -> PractitionerSpec:
    title = rng.choice((Title.CHIEF, Title.ASSOCIATE_CHIEF)) if expert else Title.ATTENDING
    specialties = tuple(rng.sample(DEPARTMENTS[department].specialties, k=rng.randint(2, 3)))
    years = rng.randint(15, 35) if expert else rng.randint(6, 14)
    profile = f"{title}，从事{department}临床工作{years}年，擅长{'、'.join(specialties)}的诊治。"
    if expert:
        profile += f"每周{rng.choice(WEEKDAYS)}{rng.choice(('上午', '下午'))}专家门诊。"
    return PractitionerSpec(institution.name, department, name, title, specialties, expert, profile)


def _family_doctor(rng: random.Random, centre: InstitutionSpec, name: str) -> PractitionerSpec:
    title = rng.choice((Title.ATTENDING, Title.ATTENDING, Title.PHYSICIAN))
    specialties = tuple(rng.sample(DEPARTMENTS[GENERAL_PRACTICE].specialties, k=2))
    profile = f"{centre.name}家庭医生。负责签约居民的健康管理，擅长{'、'.join(specialties)}。"
    return PractitionerSpec(centre.name, GENERAL_PRACTICE, name, title, specialties, False, profile)


def plan_practitioners() -> list[PractitionerSpec]:
    """The named practitioners and generated colleagues.

    A hospital department has 2–4 experts (those whose sessions keep community slots) and one
    attending doctor; a community centre has 3–6 family doctors.
    """
    rng = _generator("practitioners")
    plans: list[PractitionerSpec] = []
    for institution in INSTITUTIONS:
        taken = set(RESERVED_NAMES) | {p.name for p in NAMED_PRACTITIONERS}
        for department in institution.departments:
            named = [
                p
                for p in NAMED_PRACTITIONERS
                if (p.institution, p.department) == (institution.name, department)
            ]
            plans += named
            if department == GENERAL_PRACTICE:
                count = rng.randint(3, 6) - len(named)
                plans += [_family_doctor(rng, institution, _fresh_name(rng, taken)) for _ in range(count)]
            else:
                roles = [True] * (rng.randint(2, 4) - sum(p.expert for p in named)) + [False]
                plans += [
                    _colleague(rng, institution, department, _fresh_name(rng, taken), expert=expert)
                    for expert in roles
                ]
    return plans


def _birth_date(rng: random.Random) -> date:
    # Half of those signed are born before 1961: family doctors mostly look after the elderly.
    first, last = (
        (date(1935, 1, 1), date(1960, 12, 31))
        if rng.random() < 0.5
        else (date(1961, 1, 1), date(2015, 12, 31))
    )
    return date.fromordinal(rng.randint(first.toordinal(), last.toordinal()))


def _id_number(rng: random.Random, area: str, born: date, sex: Sex, used: set[str]) -> str:
    """GB 11643: area, birth date, a sequence odd for men and even for women, check character."""
    while True:
        sequence = rng.randrange(1, 500) * 2 + (1 if sex is Sex.MALE else 0)
        first17 = f"{area}{born:%Y%m%d}{sequence:03d}"
        number = first17 + rules.check_character(first17)
        if number not in used:
            used.add(number)
            return number


def _mobile(rng: random.Random, used: set[str]) -> str:
    while (phone := f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}") in used:
        pass
    used.add(phone)
    return phone


def _centre_of(index: int, tianlin: InstitutionSpec, others: Sequence[InstitutionSpec]) -> InstitutionSpec:
    """Every fifth resident at 田林; the other centres take turns, so a small run covers them all."""
    if index % TIANLIN_EVERY == 0:
        return tianlin
    return others[(index - index // TIANLIN_EVERY - 1) % len(others)]


def _resident(
    rng: random.Random, centre: InstitutionSpec, doctor: str, ids: set[str], phones: set[str]
) -> ResidentPlan:
    sex = rng.choice((Sex.MALE, Sex.FEMALE))
    born = _birth_date(rng)
    address = (
        f"{centre.district}{rng.choice(centre.streets)}{rng.randint(1, 999)}弄"
        f"{rng.randint(1, 40)}号{rng.randint(1, 6)}0{rng.randint(1, 4)}室"
    )
    return ResidentPlan(
        centre=centre.name,
        doctor=doctor,
        name=_person_name(rng, sex),
        sex=sex,
        birth_date=born,
        id_number=_id_number(rng, AREA_CODES[centre.district], born, sex, ids),
        phone=_mobile(rng, phones),
        address=address,
        signed_days_ago=rng.randint(0, 330),  # signed within 11 months: all still current
    )


def plan_residents(count: int, doctors: Mapping[str, Sequence[str]]) -> list[ResidentPlan]:
    """`count` residents over the community centres, each signed with a family doctor of its centre.

    Residents are drawn one after another from one generator, so a smaller run is a prefix of
    a larger one. A centre's first resident goes to its first doctor (the one a demo account
    signs in as, where there is one), so every family-doctor account has a signed resident.
    """
    rng = _generator("residents")
    tianlin = next(c for c in CENTRES if c.name == TIANLIN)
    others = [c for c in CENTRES if c.name != TIANLIN]
    ids: set[str] = set()
    phones: set[str] = set()
    plans: list[ResidentPlan] = []
    seen: set[str] = set()
    for index in range(count):
        centre = _centre_of(index, tianlin, others)
        doctor = rng.choice(doctors[centre.name]) if centre.name in seen else doctors[centre.name][0]
        seen.add(centre.name)
        plans.append(_resident(rng, centre, doctor, ids, phones))
    return plans


def family_doctors(practitioners: Iterable[PractitionerSpec]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for p in practitioners:
        if p.department == GENERAL_PRACTICE:
            found.setdefault(p.institution, []).append(p.name)
    return found
