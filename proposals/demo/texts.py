"""The words of the demo proposals: the 300 originals, their variants, and the texts the cycle adds.

Pure functions of a ``random.Random``: no database, so a variant is the same on every run.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from consult.demo.city import DISTRICTS, ROADS
from consult.people.roles import Chamber

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "demo" / "proposals.jsonl"
SUFFIX: dict[str, str] = {Chamber.NPC: "的建议", Chamber.CPPCC: "的提案"}
HONORIFIC: dict[str, str] = {Chamber.NPC: "代表", Chamber.CPPCC: "委员"}
DISTRICT_PATTERN = re.compile("|".join(DISTRICTS))
# Verbs that open most titles (关于加强…的建议): they take 进一步 and have a near synonym.
LEADING_VERBS = {
    "加强": "强化",
    "提升": "提高",
    "加快": "加速",
    "推进": "推动",
    "推动": "推进",
    "完善": "健全",
    "健全": "完善",
    "扩大": "增加",
    "规范": "加强规范",
    "优化": "改进",
    "深化": "深入推进",
    "改善": "改进",
    "强化": "加强",
    "提高": "提升",
    "推广": "推行",
    "推行": "推广",
}
OPENING_SENTENCES = [
    "近期在{district}走访调研时，不少居民就此向{honorific}反映意见。",
    "据了解，{district}类似问题较为普遍，群众反映比较集中。",
    "这一问题已连续多年被代表、委员提及，社会关注度较高。",
    "{district}{road}沿线居民多次通过热线反映这一问题。",
]
CLOSING_SENTENCES = [
    "建议有关部门会同{district}人民政府开展专题调研，尽快拿出可操作的解决方案。",
    "希望相关部门在办理过程中加强与{honorific}的沟通，及时通报工作进展。",
    "建议将此项工作纳入年度重点民生实事项目，明确责任单位和完成时限。",
    "可先在{district}开展试点，总结经验后在全市推广。",
    "建议加强部门之间的协同配合，避免政策落实中出现推诿扯皮。",
]


@dataclass(frozen=True)
class Original:
    """One of the 300 written proposals, with the reply it really got."""

    index: int
    kind: str  # 建议 / 提案
    year: int
    title: str
    body: str
    category: str
    lead_bureau: str
    co_bureaus: tuple[str, ...]
    reply_class: str
    reply: str

    @property
    def core(self) -> str:
        """The title without 关于 and 的建议/的提案: what the proposal is about."""
        return self.title.removeprefix("关于").removesuffix("的建议").removesuffix("的提案")


@dataclass(frozen=True)
class Variant:
    title: str
    body: str
    reply: str  # the original reply, with the same district names as the variant

    @property
    def core(self) -> str:
        return self.title.removeprefix("关于").removesuffix("的建议").removesuffix("的提案")


@cache
def originals() -> tuple[Original, ...]:
    rows = []
    with open(FIXTURE, encoding="utf-8") as fh:
        for index, line in enumerate(fh):
            item = json.loads(line)
            rows.append(
                Original(
                    index=index,
                    kind=item["kind"],
                    year=item["year"],
                    title=item["title"],
                    body=item["body"],
                    category=item["category"],
                    lead_bureau=item["lead_bureau"],
                    co_bureaus=tuple(item["co_bureaus"]),
                    reply_class=item["reply_class"],
                    reply=item["reply"],
                )
            )
    return tuple(rows)


def _retitled(core: str, rng: random.Random) -> str:
    """Say the same thing a little differently, as another deputy would."""
    verb = core[:2]
    has_district = DISTRICT_PATTERN.search(core) is not None
    options = [core]
    if verb in LEADING_VERBS:
        options.append(LEADING_VERBS[verb] + core[2:])
        if not core.startswith("进一步"):
            options.append("进一步" + core)
        if not has_district and not core.startswith("在"):
            options.append(f"在{rng.choice(DISTRICTS)}{core}")
    elif not core.startswith(("在", "为", "以")):
        options.append("推动" + core)
    return rng.choice(options)


def variant(original: Original, chamber: str, rng: random.Random, honorific: str) -> Variant:
    """A realistic variant: districts moved, the title rephrased, a sentence of the proposer's own added."""
    moved = dict(zip(DISTRICTS, rng.sample(DISTRICTS, len(DISTRICTS)), strict=True))

    def move(text: str) -> str:
        return DISTRICT_PATTERN.sub(lambda match: moved[match.group(0)], text)

    core = _retitled(move(original.core), rng)
    title = f"关于{core}{SUFFIX[chamber]}"[:120]
    fill = {"district": rng.choice(DISTRICTS), "road": rng.choice(ROADS), "honorific": honorific}
    body = move(original.body)
    if rng.random() < 0.5:
        body = rng.choice(OPENING_SENTENCES).format(**fill) + body
    if rng.random() < 0.6:
        body = body + rng.choice(CLOSING_SENTENCES).format(**fill)
    return Variant(title=title, body=body, reply=move(original.reply))


def reply_letter(*, proposer: str, honorific: str, title: str, text: str, bureau: str, contact: str, phone: str) -> str:
    """A reply as bureaus write it: salutation, the answer, and who to call (stripped when published)."""
    return (
        f"{proposer}{honorific}：\n"
        f"您提出的《{title}》收悉。现答复如下：\n{text}\n"
        f"感谢您对我们工作的关心和支持。\n"
        f"联系人：{contact}，联系电话：{phone}\n{bureau}"
    )


def rehandling_text(core: str) -> str:
    return (
        f"根据您对前次答复的意见，我们对“{core}”有关问题重新进行了研究办理。"
        "一是会同相关部门实地调研，逐项核实您反映的情况；二是明确了具体的工作措施、责任分工和完成时限；"
        "三是建立了办理进展定期通报机制，将按季度向您书面通报落实情况。"
    )


def follow_up_text(core: str) -> str:
    return (
        f"关于“{core}”，前次答复中列入计划的事项现已落实完成。"
        "相关工作已纳入常态化管理，我们将继续听取您的意见，巩固办理成效。"
    )


COMMUNICATION_TEMPLATES = {
    "phone": "电话联系{name}{honorific}，听取对“{core}”的具体意见，介绍了初步办理思路。",
    "visit": "上门走访{name}{honorific}，就“{core}”交换意见，{name}{honorific}对办理方案表示认可。",
    "meeting": "召开办理座谈会，邀请{name}{honorific}参加，会同有关单位共同研究“{core}”。",
    "online": "通过在线咨询与{name}{honorific}沟通，解答了有关政策问题。",
    "letter": "书面征求{name}{honorific}对答复初稿的意见，{name}{honorific}回复同意。",
}
OPINIONS = [
    "我单位同意主办单位的办理意见，将在职责范围内配合做好相关工作。",
    "建议在答复中补充我单位负责的政策衔接内容，我们将同步推进落实。",
    "经研究，我单位将把相关事项纳入年度工作计划，并配合主办单位做好答复。",
]
RETURN_REASON = "该事项主要涉及{bureau}职责，不属于我单位职责范围，建议改由{bureau}主办。"
DECLINE_REASONS = [
    "所提事项属于个人诉求，不符合立案条件，已转有关部门参考。",
    "所提事项不属于本市职权范围，不予立案。",
    "内容过于笼统，未提出具体意见建议，不予立案。",
]
LETTER_REASONS = [
    "所反映问题属于具体个案，转为来信办理。",
    "内容以反映情况为主，转有关部门作为来信处理。",
]
MERGE_REASON = "与{code}反映问题相同，并案办理"
EXTENSION_REASON = "涉及多部门协调和资金安排，需进一步调研论证，申请延期答复。"
REVIEW_RETURN_NOTE = "答复未逐条回应建议内容，请补充具体措施和时限后重新报送。"
CONFIRM_REASON = "经核实，前次答复未回应代表、委员提出的核心问题，同意重新办理。"
DISMISS_REASON = "经与代表、委员沟通，答复已依法依规作出说明，不再重新办理。"
OFFICE_CLOSE_REASON = "反馈期限届满，未收到全部测评意见，予以办结。"
FOLLOW_UP_CLOSE_REASON = "答复所列事项已纳入有关部门年度计划，转入日常督办，予以办结。"
REFUSAL_REASONS = ["涉及个人隐私信息", "涉及企业商业信息，暂不公开"]
COMMENTS = {
    "satisfied": ["", "", "", "办理态度认真，答复具体，措施可行。", "沟通及时，感谢承办单位。"],
    "basically": ["", "答复基本回应了关切，希望加快落实。"],
    "unsatisfied": ["答复较为笼统，未提出具体解决措施和时间表。"],
}
