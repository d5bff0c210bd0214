"""The referral loop as the demo accounts lived it (`yilian demo load`): referrals up and down in
every status, ECGs and a PDF report attached, follow-up tasks to do, overdue, done and missed, a
stay that ends in a down-referral, beds offered, and the notices all of it sends, so that a
newcomer signing in sees work waiting.

Everything goes through the services the pages and the API call, as the account that would do it,
at the moment it would have happened (`now` minus so many days): the rows, the history, the audit
trail and the notices are those of real use. The deadline job runs at two moments to escalate
and expire what nobody answered. Idempotent: a second run finds the first referral and stops.

Referrals stay inside a consortium (田林 and 康健 refer to 市六, 金山卫镇 to 金山医院) and every
account reads only residents it cares for: up from a centre for residents signed there; down
from 市六 for residents its 妇产科 saw through an up-referral in the last 30 days, or whose
admission sp.sixth requested.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from yilian.admissions.errors import QueueEmpty
from yilian.admissions.models import AdmissionRequest, Bed, Ward
from yilian.admissions.queries.discharges import discharge_for_referral
from yilian.admissions.rules import BedStatus, RequestStatus
from yilian.admissions.service import beds, stays
from yilian.auth.models import User
from yilian.auth.policy import Actor
from yilian.auth.service import actor_of
from yilian.core.clock import SHANGHAI, local_today
from yilian.core.i18n import DEFAULT_LOCALE
from yilian.demo import ecg
from yilian.demo.admissions import SIXTH_WARD
from yilian.demo.directory import JINSHAN, SIXTH, TIANLIN
from yilian.directory.models import Contract, Department, Institution, Practitioner, Resident
from yilian.directory.rules import Sex
from yilian.notices import service as notices
from yilian.notices.models import Notice
from yilian.referrals import jobs as deadlines
from yilian.referrals.models import FollowUpTask, Referral
from yilian.referrals.rules import Action, Direction, Service, TaskStatus, Urgency
from yilian.referrals.schemas import ActionIn, Diagnosis, Medication, PlanItemIn, ReferralIn
from yilian.referrals.service import attachments, followup
from yilian.referrals.service.create import create_referral
from yilian.referrals.service.moves import act

GYNAECOLOGY: Final = ("妇产科", "林雅琴")  # sp.sixth
CARDIOLOGY: Final = ("心内科", "顾立新")  # cardio.jinshan
SIGNED_BEFORE: Final = timedelta(days=90)  # the story's residents were signed before it starts
READ_AFTER: Final = timedelta(days=2)  # notices older than this were read (an hour after they came)


@dataclass(frozen=True)
class Move:
    days_ago: float
    by: str  # the account that makes it
    action: Action
    note: str = ""
    scheduled_in: float | None = None  # days from now; at 09:00 in Shanghai
    place: str = ""
    findings: str = ""
    diagnosis: str = ""
    advice: str = ""
    redirect_to: tuple[str, str] | None = None  # (institution, department)


@dataclass(frozen=True)
class Attach:
    days_ago: float
    by: str
    filename: str
    description: str
    tracing: ecg.Tracing
    report: tuple[str, ...] = ()  # a PDF with these lines; an ECG photo (PNG) when empty


@dataclass(frozen=True)
class Plan:
    what: str
    every_days: int
    for_days: int  # from the day the referral is written


@dataclass(frozen=True)
class Story:
    key: str
    by: str  # the referring account
    resident: str  # "田林/w/3": the centre's 4th signed woman of 45–65; "U8": that story's resident;
    # "admitted": 田林's patient in 市六's ward (demo.admissions), whose stay this referral continues
    direction: Direction
    to: tuple[str, str, str | None]  # institution, department, practitioner
    created_days_ago: float
    reason: str
    diagnoses: tuple[tuple[str, str], ...]
    urgency: Urgency = Urgency.ROUTINE
    service: Service | None = None
    summary: str = ""
    medications: tuple[tuple[str, str], ...] = ()
    plan: tuple[Plan, ...] = ()
    moves: tuple[Move, ...] = ()
    files: tuple[Attach, ...] = ()
    done_tasks: int = 0  # the first so many tasks done (every third missed), the rest left open
    after_discharge: float | None = None  # days ago 市六 discharged the resident ("admitted": its patient)


FD, SP = "fd.tianlin", "sp.sixth"
MENOPAUSE: Final = (("N95.1", "绝经期和女性更年期状态"),)
TO_SIXTH: Final = (SIXTH, *GYNAECOLOGY)
TO_TIANLIN: Final = (TIANLIN, "全科", "陈佳怡")
CLINIC: Final = "门诊楼三楼 妇产科专家诊室 林雅琴"
NORMAL_ECG: Final = ecg.Tracing(rate=74, seed=11)
REPORT_LINES: Final = (
    "窦性心律，心率 74 次／分，各导联 ST-T 未见明显异常。",
    "妇科超声：子宫、双附件未见明显异常。性激素：FSH 升高，E2 降低，符合围绝经期改变。",
    "诊断：绝经期综合征。建议绝经激素治疗，社区随访血压、症状评分。",
    "报告医生：林雅琴（上海市第六人民医院 妇产科）",
)

STORIES: Final = (
    # 田林 → 市六 妇产科 (sp.sixth): one up-referral in each status.
    Story("U1", FD, "田林/w/0", Direction.UP, TO_SIXTH, 0.1, "潮热盗汗半年，评估绝经激素治疗", MENOPAUSE),
    Story(
        "U2", FD, "田林/w/1", Direction.UP, TO_SIXTH, 1, "绝经后阴道出血两次，需排除子宫内膜病变",
        (("N95.9", "绝经期和绝经期前后疾患"),), urgency=Urgency.URGENT,
        moves=(Move(0.85, FD, Action.SUBMIT),),
    ),
    Story(
        "U3", FD, "田林/w/2", Direction.UP, TO_SIXTH, 4.2, "月经紊乱伴经量增多三个月，贫血待查",
        (("N92.0", "月经过多"),), moves=(Move(4, FD, Action.SUBMIT),),
    ),
    Story(
        "U4", FD, "田林/w/3", Direction.UP, TO_SIXTH, 2.2, "更年期症状加重，情绪低落，需专科评估",
        MENOPAUSE, moves=(Move(2, FD, Action.SUBMIT), Move(1.5, SP, Action.ACCEPT, note="请近日来专家门诊")),
    ),
    Story(
        "U5", FD, "田林/w/4", Direction.UP, TO_SIXTH, 4.1, "子宫肌瘤增大，评估手术指征",
        (("D25.9", "子宫平滑肌瘤"),), urgency=Urgency.URGENT,
        summary="B超示子宫肌瘤 4.2 cm，较半年前增大；血红蛋白 102 g/L。心电图见附件。",
        moves=(
            Move(4, FD, Action.SUBMIT),
            Move(3.5, SP, Action.ACCEPT, scheduled_in=2, place=CLINIC, note="周一上午专家门诊"),
        ),
        files=(Attach(4.05, FD, "术前心电图.png", "术前心电图（社区拍摄）", NORMAL_ECG),),
    ),
    Story(
        "U6", FD, "田林/w/5", Direction.UP, TO_SIXTH, 8.1, "围绝经期综合征，降压药调整后潮热仍明显",
        MENOPAUSE, medications=(("苯磺酸氨氯地平片", "5 mg qd"),),
        moves=(
            Move(8, FD, Action.SUBMIT),
            Move(7, SP, Action.ACCEPT, scheduled_in=-1, place=CLINIC),
            Move(0.98, SP, Action.ARRIVE),
        ),
        files=(Attach(8.05, FD, "心电图.png", "社区心电图", ecg.Tracing(rate=88, seed=6)),),
    ),
    Story(
        "U7", FD, "田林/w/6", Direction.UP, TO_SIXTH, 15.1, "潮热、心悸，评估绝经激素治疗禁忌",
        MENOPAUSE,
        moves=(
            Move(15, FD, Action.SUBMIT),
            Move(14, SP, Action.ACCEPT, scheduled_in=-7, place=CLINIC),
            Move(6.98, SP, Action.ARRIVE),
            Move(
                2, SP, Action.REPORT, findings="潮热评分 18 分，心电图正常，妇科超声未见异常。",
                diagnosis="绝经期综合征", advice="开始绝经激素治疗，社区每两周测血压，三个月后复诊。",
            ),
        ),
        files=(
            Attach(15.05, FD, "心悸时心电图.png", "心悸发作时社区心电图", ecg.Tracing(rate=102, seed=7)),
            Attach(2, SP, "检查报告.pdf", "专家门诊检查报告", NORMAL_ECG, report=REPORT_LINES),
        ),
    ),
    Story(
        "U8", FD, "田林/w/7", Direction.UP, TO_SIXTH, 25.1, "绝经后骨量减少，评估激素治疗", MENOPAUSE,
        moves=(
            Move(25, FD, Action.SUBMIT),
            Move(24, SP, Action.ACCEPT, scheduled_in=-20, place=CLINIC),
            Move(19.98, SP, Action.ARRIVE),
            Move(18, SP, Action.REPORT, findings="骨密度 T 值 -2.1。", diagnosis="绝经期综合征；骨量减少",
                 advice="绝经激素治疗，补充钙剂和维生素 D，下转社区随访。"),
            Move(16, FD, Action.CLOSE, note="已阅报告，转入社区随访"),
        ),
    ),
    Story(
        "U9", FD, "田林/w/8", Direction.UP, TO_SIXTH, 5.1, "甲状腺结节伴潮热", MENOPAUSE,
        moves=(
            Move(5, FD, Action.SUBMIT),
            Move(4, SP, Action.DECLINE, note="以甲状腺问题为主，请转内分泌科；更年期症状可社区先观察"),
        ),
    ),
    Story(
        "U10", FD, "田林/w/9", Direction.UP, TO_SIXTH, 3.1, "怕热多汗、心悸消瘦，考虑更年期或甲亢",
        (("E05.9", "甲状腺毒症[甲状腺功能亢进症]"),),
        moves=(
            Move(3, FD, Action.SUBMIT),
            Move(2, SP, Action.REDIRECT, note="甲功异常为主，转内分泌科", redirect_to=(SIXTH, "内分泌科")),
        ),
    ),
    Story(
        "U11", FD, "田林/w/10", Direction.UP, TO_SIXTH, 9.1, "更年期失眠，评估治疗", MENOPAUSE,
        moves=(Move(9, FD, Action.SUBMIT), Move(8, FD, Action.CANCEL, note="患者已自行至他院就诊")),
    ),
    Story(
        "U12", FD, "田林/w/11", Direction.UP, TO_SIXTH, 13.1, "绝经后反复尿路感染", MENOPAUSE,
        moves=(Move(13, FD, Action.SUBMIT),),  # nobody answers: escalated, then expired by the job
    ),
    # 康健 → 市六: another centre in sp.sixth's worklist.
    Story(
        "K1", "fd.kangjian", "康健/w/0", Direction.UP, TO_SIXTH, 1.6, "围绝经期月经紊乱，盆腔包块待查",
        (("N95.9", "绝经期和绝经期前后疾患"),), moves=(Move(1.5, "fd.kangjian", Action.SUBMIT),),
    ),
    Story(
        "K2", "fd.kangjian", "康健/w/1", Direction.UP, TO_SIXTH, 3, "绝经后骨痛，评估骨质疏松与激素治疗",
        (("M81.9", "骨质疏松"),),
        moves=(
            Move(2.9, "fd.kangjian", Action.SUBMIT),
            Move(0.4, SP, Action.ACCEPT, scheduled_in=5, place=CLINIC),
        ),
    ),
    # 金山卫镇 → 金山医院 心内科 (cardio.jinshan): chest pain with the ECG taken in the community.
    Story(
        "J1", "fd.jinshanwei", "金山卫镇/a/0", Direction.UP, (JINSHAN, *CARDIOLOGY), 0.012,
        "持续胸痛 40 分钟，心电图 ST 段抬高", (("I21.9", "急性心肌梗死"),), urgency=Urgency.EMERGENCY,
        summary="胸骨后压榨样痛，大汗。已嚼服阿司匹林 300 mg。",
        medications=(("阿司匹林肠溶片", "300 mg 嚼服"),),
        moves=(Move(0.01, "fd.jinshanwei", Action.SUBMIT),),
        files=(
            Attach(0.011, "fd.jinshanwei", "心电图-胸痛.png", "胸痛时 II 导联",
                   ecg.Tracing(rate=96, st_elevation_mv=0.3, seed=3)),
        ),
    ),
    Story(
        "J2", "fd.jinshanwei", "金山卫镇/a/1", Direction.UP, (JINSHAN, *CARDIOLOGY), 6.1,
        "活动后胸闷两周，心电图 ST 段压低", (("I20.9", "心绞痛"),), urgency=Urgency.URGENT,
        moves=(
            Move(6, "fd.jinshanwei", Action.SUBMIT),
            Move(5.8, "cardio.jinshan", Action.ACCEPT, scheduled_in=-4, place="门诊楼二楼 心内科专家诊室"),
            Move(3.98, "cardio.jinshan", Action.ARRIVE),
            Move(1, "cardio.jinshan", Action.REPORT, findings="平板运动试验阳性，冠脉 CTA 示前降支狭窄 70%。",
                 diagnosis="稳定型心绞痛", advice="择期冠脉造影；阿司匹林、阿托伐他汀，社区监测血压心率。"),
        ),
        files=(
            Attach(6.05, "fd.jinshanwei", "心电图.png", "社区心电图",
                   ecg.Tracing(rate=80, st_elevation_mv=-0.12, seed=4)),
            Attach(1, "cardio.jinshan", "心电图报告.pdf", "心内科心电图报告", ecg.Tracing(rate=68, seed=5),
                   report=("窦性心律，心率 68 次／分。", "V4–V6 导联 ST 段水平型压低 0.1 mV。",
                           "报告医生：顾立新（复旦大学附属金山医院 心内科）")),
        ),
    ),
    # 市六 → 田林 (fd.tianlin): down-referrals after the up-referrals above.
    Story(
        "D1", SP, "U7", Direction.DOWN, TO_TIANLIN, 0.6, "绝经激素治疗开始，社区随访血压和症状",
        MENOPAUSE, medications=(("雌二醇／雌二醇地屈孕酮片", "1 片 qd"),),
        plan=(Plan("测血压", 14, 90), Plan("更年期症状评分", 30, 90)),
        moves=(Move(0.5, SP, Action.SUBMIT),),
    ),
    Story(
        "D2", SP, "U8", Direction.DOWN, TO_TIANLIN, 15.2, "绝经激素治疗中，社区随访血压、骨量",
        (*MENOPAUSE, ("M81.9", "骨质疏松")), medications=(("碳酸钙 D3 片", "600 mg qd"),),
        plan=(Plan("测血压", 5, 60), Plan("复查性激素", 30, 90)),
        moves=(
            Move(15, SP, Action.SUBMIT),
            Move(14, FD, Action.ACCEPT, note="已接收，纳入签约随访"),
            Move(13, FD, Action.ARRIVE),
        ),
        done_tasks=1,
    ),
    Story(
        "D3", SP, "U13", Direction.DOWN, TO_TIANLIN, 52, "更年期症状控制良好，社区随访", MENOPAUSE,
        plan=(Plan("测血压", 7, 40),),
        moves=(
            Move(51.9, SP, Action.SUBMIT),
            Move(51, FD, Action.ACCEPT),
            Move(50, FD, Action.ARRIVE),
            Move(14, FD, Action.REPORT, findings="随访 5 次，血压稳定，潮热减少。", advice="继续社区随访"),
            Move(13, SP, Action.CLOSE, note="随访完成"),
        ),
        done_tasks=5,
    ),
    Story(
        "A1", SP, "admitted", Direction.DOWN, TO_TIANLIN, 1.5, "髋关节翻修术后，社区换药和康复训练",
        (("M81.9", "骨质疏松"),), medications=(("利伐沙班片", "10 mg qd"),),
        summary="髋关节置换术后翻修，伤口愈合良好，出院。", after_discharge=2,
        plan=(Plan("伤口换药", 3, 21), Plan("康复训练评估", 7, 42)),
        moves=(Move(1.4, SP, Action.SUBMIT), Move(1, FD, Action.ACCEPT, note="已接收，安排上门换药")),
    ),
    Story(
        "U13", FD, "田林/w/12", Direction.UP, TO_SIXTH, 60, "更年期潮热影响睡眠", MENOPAUSE,
        moves=(
            Move(59.9, FD, Action.SUBMIT),
            Move(59, SP, Action.ACCEPT, scheduled_in=-56, place=CLINIC),
            Move(55.98, SP, Action.ARRIVE),
            Move(54, SP, Action.REPORT, findings="症状评分 20 分。", diagnosis="绝经期综合征",
                 advice="绝经激素治疗，下转社区随访。"),
            Move(53, FD, Action.CLOSE),
        ),
    ),
)  # fmt: skip
DEADLINE_RUNS: Final = (9.5, 0.0)  # the deadline job, days ago: U12 escalated; then U3 escalated, U12 expired
OFFER_DAYS_AGO: Final = 1 / 24  # 市六's admission office offers beds an hour ago (answers due within 4 hours)


@dataclass
class StoryReport:
    referrals: int = 0
    attachments: int = 0
    tasks_answered: int = 0
    offers: int = 0
    residents: dict[str, int] = field(default_factory=dict)  # story → resident id


@dataclass(frozen=True)
class _Event:
    days_ago: float
    what: Move | Attach | str  # or "write" (the story's referral), "discharge", "deadlines", "offer"
    story: Story | None = None


def timeline() -> list[_Event]:
    """Every step of every story, the deadline job's runs and the beds offered, oldest first: ids,
    worklists and notices (newest first) follow time."""
    events = [_Event(days, "deadlines") for days in DEADLINE_RUNS] + [_Event(OFFER_DAYS_AGO, "offer")]
    for story in STORIES:
        steps: tuple[Move | Attach, ...] = (*story.moves, *story.files)
        events += [_Event(story.created_days_ago, "write", story)]
        if story.after_discharge is not None:
            events += [_Event(story.after_discharge, "discharge", story)]
        events += [_Event(step.days_ago, step, story) for step in steps]
    return sorted(events, key=lambda e: -e.days_ago)  # stable: a story's steps keep their order


async def load_story(session: AsyncSession, *, now: datetime) -> StoryReport:
    """Tell the story once; an empty report when its first referral is already there."""
    report = StoryReport()
    actors = await _actors(session)
    first = STORIES[0]
    if await session.scalar(
        select(Referral.id).where(
            Referral.created_by == actors[first.by].user_id, Referral.reason == first.reason
        )
    ):
        return report
    places = await _places(session)
    picked = await _residents(session, today=local_today(now))
    stay = await _tianlin_stay(session, today=local_today(now))
    if stay is None or len(picked) < len({s.resident for s in STORIES if "/" in s.resident}):
        return report  # too few residents (`--residents 20`): no story rather than a half one
    picked["admitted"] = stay.resident_id
    referrals: dict[str, int] = {}
    for event in timeline():
        at = now - timedelta(days=event.days_ago)
        story = event.story
        if event.what == "deadlines":
            await deadlines.run(session, now=at)
        elif event.what == "offer":
            report.offers = await _offer_beds(session, actors["admission.sixth"], now=at)
        elif story is None:
            raise AssertionError(event)
        elif event.what == "discharge":
            await stays.discharge(
                session, request_id=stay.id, actor=actors["admission.sixth"], now=at, locale=DEFAULT_LOCALE
            )
        elif event.what == "write":
            resident = report.residents.get(story.resident) or picked[story.resident]
            data = _referral_in(story, resident, places, local_today(at))
            if story.after_discharge is not None:
                data = data.model_copy(update={"admission_request_id": stay.id})
            referral = await create_referral(
                session,
                data=data,
                actor=actors[story.by],
                now=at,
                today=local_today(at),
                lookup=discharge_for_referral,
            )
            referrals[story.key], report.residents[story.key] = referral.id, resident
            report.referrals += 1
        elif isinstance(event.what, Attach):
            await _attach(session, referrals[story.key], event.what, actors[event.what.by], at)
            report.attachments += 1
        elif isinstance(event.what, Move):
            await act(
                session,
                referral_id=referrals[story.key],
                action=event.what.action,
                body=_action_in(event.what, places, now),
                actor=actors[event.what.by],
                now=at,
            )
    for story in STORIES:  # the family doctor's answers (no notices: their order does not show)
        report.tasks_answered += await _answer_tasks(
            session, referrals[story.key], story.done_tasks, actors[FD]
        )
    await _read_old_notices(session, actors, now)
    return report


async def _tianlin_stay(session: AsyncSession, *, today: date) -> AdmissionRequest | None:
    """The patient of 田林 that demo.admissions put in a bed of 市六's ward (QUEUE's "303-1")."""
    return await session.scalar(
        select(AdmissionRequest)
        .join(Ward, Ward.id == AdmissionRequest.ward_id)
        .join(Contract, Contract.resident_id == AdmissionRequest.resident_id)
        .join(Institution, Institution.id == Contract.institution_id)
        .where(
            Ward.name == SIXTH_WARD,
            AdmissionRequest.status == RequestStatus.ADMITTED,
            Institution.name == TIANLIN,
            Contract.current_on(today),
        )
        .order_by(AdmissionRequest.id)
        .limit(1)
    )


async def _actors(session: AsyncSession) -> dict[str, Actor]:
    users = await session.scalars(select(User).where(User.username.in_(ACCOUNTS)))
    return {user.username: actor_of(user) for user in users}


ACCOUNTS: Final = (FD, SP, "fd.kangjian", "fd.jinshanwei", "cardio.jinshan", "admission.sixth")


async def _places(session: AsyncSession) -> dict[tuple[str, ...], int]:
    """Ids by name: (institution,), (institution, department) and (institution, practitioner)."""
    found: dict[tuple[str, ...], int] = {}
    for name, key in await session.execute(select(Institution.name, Institution.id)):
        found[(name,)] = key
    for model in (Department, Practitioner):
        query = select(Institution.name, model.name, model.id).join(
            Institution, Institution.id == model.institution_id
        )
        for institution, name, key in await session.execute(query):
            found[(institution, name)] = key
    return found


async def _residents(session: AsyncSession, *, today: date) -> dict[str, int]:
    """The residents the stories name ("田林/w/3"), by centre: signed there before the story starts,
    women of 45–65 first for the 更年期 clinic (then other women, then anyone), in id order."""
    wanted = {s.resident for s in STORIES if "/" in s.resident}
    picked: dict[str, int] = {}
    for centre in sorted({w.split("/")[0] for w in wanted}):
        rows = (
            await session.execute(
                select(Resident.id, Resident.sex, Resident.birth_date)
                .join(Contract, Contract.resident_id == Resident.id)
                .join(Institution, Institution.id == Contract.institution_id)
                .where(
                    Institution.name == f"{centre}社区卫生服务中心",
                    Contract.current_on(today),
                    Contract.signed_on <= today - SIGNED_BEFORE,
                )
                .order_by(Resident.id)
            )
        ).all()
        young, old = date(today.year - 45, 12, 31), date(today.year - 65, 1, 1)
        women = sorted(rows, key=lambda r: (r.sex != Sex.FEMALE, not old <= r.birth_date <= young, r.id))
        for want in wanted:
            place, kind, n = want.split("/")
            pool = women if kind == "w" else rows
            if place == centre and pool:  # a small demo (the tests' 60) tells two stories of some
                picked[want] = pool[int(n) % len(pool)].id
    return picked


def _referral_in(
    story: Story, resident_id: int, places: dict[tuple[str, ...], int], today: date
) -> ReferralIn:
    institution, department, doctor = story.to
    return ReferralIn(
        direction=story.direction,
        resident_id=resident_id,
        target_institution_id=places[(institution,)],
        target_department_id=places[(institution, department)],
        target_practitioner_id=places[(institution, doctor)] if doctor else None,
        urgency=story.urgency,
        service=story.service,
        reason=story.reason,
        summary=story.summary,
        diagnoses=[Diagnosis(code=code, text=text) for code, text in story.diagnoses],
        medications=[Medication(name=name, dose=dose) for name, dose in story.medications],
        plan=[
            PlanItemIn(what=p.what, every_days=p.every_days, until=today + timedelta(days=p.for_days))
            for p in story.plan
        ],
    )


def _action_in(move: Move, places: dict[tuple[str, ...], int], now: datetime) -> ActionIn:
    scheduled_at = None
    if move.scheduled_in is not None:
        # A coming appointment at 09:00 on its day; a past one when the patient came (just before).
        day = local_today(now) + timedelta(days=move.scheduled_in)
        scheduled_at = (
            datetime.combine(day, time(9), SHANGHAI)
            if move.scheduled_in > 0
            else now + timedelta(days=move.scheduled_in)
        )
    target = {}
    if move.redirect_to:
        target = {
            "target_institution_id": places[move.redirect_to[:1]],
            "target_department_id": places[move.redirect_to],
        }
    return ActionIn(
        note=move.note,
        scheduled_at=scheduled_at,
        place=move.place,
        findings=move.findings,
        diagnosis=move.diagnosis,
        advice=move.advice,
        **target,
    )


async def _attach(session: AsyncSession, referral_id: int, file: Attach, actor: Actor, now: datetime) -> None:
    if file.report:
        content, kind = ecg.pdf(file.tracing, title=file.description, lines=file.report), "application/pdf"
    else:
        content, kind = ecg.png(file.tracing), "image/png"
    await attachments.add_attachment(
        session,
        referral_id=referral_id,
        filename=file.filename,
        declared_type=kind,
        content=content,
        description=file.description,
        actor=actor,
        now=now,
    )


async def _answer_tasks(session: AsyncSession, referral_id: int, count: int, actor: Actor) -> int:
    """The first `count` tasks answered on their day at 10:00: done, every third missed."""
    tasks = (
        await session.scalars(
            select(FollowUpTask)
            .where(FollowUpTask.referral_id == referral_id)
            .order_by(FollowUpTask.due_on, FollowUpTask.id)
            .limit(count)
        )
    ).all()
    for n, task in enumerate(tasks, start=1):
        missed = n % 3 == 0
        await followup.finish_task(
            session,
            task_id=task.id,
            outcome=TaskStatus.MISSED if missed else TaskStatus.DONE,
            note="电话联系未到" if missed else "血压 128/80 mmHg，无不适",
            actor=actor,
            now=datetime.combine(task.due_on, time(10), SHANGHAI),
        )
    return len(tasks)


async def _offer_beds(session: AsyncSession, office: Actor, *, now: datetime) -> int:
    """市六's admission office offers its free beds (of no set sex first) to the first fitting
    patients, until a patient of 田林 has one and fd.tianlin is told; how many offers."""
    free = await session.scalars(
        select(Bed.id)
        .join(Ward, Ward.id == Bed.ward_id)
        .where(Ward.name == SIXTH_WARD, Bed.status == BedStatus.FREE)
        .order_by(Bed.room_sex.is_not(None), Bed.room, Bed.label)
    )
    tianlin = set(
        await session.scalars(
            select(Contract.resident_id)
            .join(Institution, Institution.id == Contract.institution_id)
            .where(Institution.name == TIANLIN, Contract.current_on(local_today(now)))
        )
    )
    offers = 0
    for bed in free.all():
        try:
            async with session.begin_nested():  # a bed nobody fits stays free
                offered = await beds.offer_next(
                    session, bed_id=bed, actor=office, now=now, locale=DEFAULT_LOCALE
                )
        except QueueEmpty:
            continue
        offers += 1
        if offered.resident_id in tianlin:
            break
    return offers


async def _read_old_notices(session: AsyncSession, actors: dict[str, Actor], now: datetime) -> None:
    """What came more than two days ago was read an hour later; the rest waits, unread."""
    for actor in actors.values():
        old = await session.execute(
            select(Notice.id, Notice.created_at).where(
                Notice.user_id == actor.user_id,
                Notice.read_at.is_(None),
                Notice.created_at < now - READ_AFTER,
            )
        )
        for notice_id, created in old.all():
            await notices.mark_read(
                session, notice_id=notice_id, actor=actor, now=created + timedelta(hours=1)
            )
