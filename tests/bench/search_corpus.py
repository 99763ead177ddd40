"""Realistic Chinese search documents, chat lines and mixed queries for the search benchmarks.

Shared by ``bench_search.py`` (PostgreSQL rows, the issue's sizes) and ``bench_search_engines.py``
(documents straight from Python, no database). Everything is a pure function of a seed.

- ``proposal_documents(n)``: what ``proposals.search.proposal_document`` would build for ``n`` demo
  proposals: variants of the 300 written ones (``proposals.demo.texts``), the demo's mix of years and
  states (``state_quotas``), bureaus, sent replies, numbers and the same ``acl`` keys.
- ``conversations(n)``: consultation threads about ``n`` messages long in all: the 60 written dialogues
  (``consult/demo/fixtures/demo/consultations.jsonl``) with districts, roads and figures changed, sentences
  recombined, chat fillers and file messages, so that 1 000 000 messages are not 600 lines repeated.
  ``message_documents`` turns them into what ``chat.search.message_document`` builds.
- ``mixed_queries(universe, n)``: searches as people type them, drawn from words of the same texts by
  how common they are: one word (common, rare, part of a word, traditional characters), several words,
  quoted phrases, proposal numbers, filters, facets, newest first, as staff, a deputy, a bureau handler
  or an expert. ``universe`` holds the ids and values that exist in the corpus being searched.
"""

from __future__ import annotations

import json
import random
import re
import statistics
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from itertools import islice

from consult.demo.city import DISTRICTS, FIXTURES, GIVEN, ROADS, SURNAMES
from proposals.demo.plan import REACHED_BUREAU, REPLIED_STATES, state_quotas
from proposals.demo.texts import HONORIFIC, Original, originals, reply_letter, variant
from proposals.models import Status
from search import analysis
from search.documents import SearchDocument, SearchQuery

PREFIX = {"npc": "建", "cppcc": "提"}
KIND = {"npc": "suggestion", "cppcc": "proposal"}
DEPUTIES = {"npc": range(1000, 1400), "cppcc": range(2000, 2300)}  # user ids of the synthetic deputies
EXPERTS = range(5000, 5126)  # user ids of the synthetic experts, three per bureau
NUMBERED = frozenset(Status) - {Status.DRAFT, Status.SUBMITTED}


@cache
def bureau_names() -> tuple[str, ...]:
    with open(FIXTURES / "bureaus.json", encoding="utf-8") as fh:
        return tuple(item["name"] for item in json.load(fh))


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


def _moment(rng: random.Random, year: int) -> datetime:
    start = datetime(year, 1, 8, 1, 0, tzinfo=UTC)
    return start + timedelta(days=rng.randint(0, 300), seconds=rng.randint(0, 8 * 3600))


# --- proposals --------------------------------------------------------------------------------


def _original_bureaus(original: Original) -> list[int]:
    ids = {name: index + 1 for index, name in enumerate(bureau_names())}
    return [ids[name] for name in (original.lead_bureau, *original.co_bureaus) if name in ids]


def proposal_documents(n: int, *, seed: int = 2027) -> Iterator[SearchDocument]:
    """``n`` proposal documents with ids 1..n (see the module docstring)."""
    rng = random.Random(seed)
    quotas = state_quotas(n)
    rng.shuffle(quotas)
    sessions = {key: index + 1 for index, key in enumerate((c, y) for y in range(2022, 2028) for c in PREFIX)}
    serials: Counter[tuple[str, int]] = Counter()
    for object_id, (year, chamber, state) in enumerate(quotas, start=1):
        original = rng.choice(originals())
        proposer = rng.choice(DEPUTIES[chamber])
        text = variant(original, chamber, rng, HONORIFIC[chamber])
        cosigners = rng.sample(DEPUTIES[chamber], rng.choice((0, 0, 1, 2, 3)))
        bureaus = _original_bureaus(original) if state in REACHED_BUREAU else []
        replies = ""
        if state in REPLIED_STATES:
            replies = reply_letter(
                proposer=_name(rng),
                honorific=HONORIFIC[chamber],
                title=text.title,
                text=text.reply,
                bureau=original.lead_bureau,
                contact=_name(rng),
                phone=f"0580-87{rng.randint(0, 999999):06d}",
            )
        number: list[str] = []
        if state in NUMBERED:
            serials[(chamber, year)] += 1
            number = analysis.number_keywords(year, PREFIX[chamber], serials[(chamber, year)])
        acl = {f"user:{proposer}"}
        if state != Status.DRAFT:
            acl |= {"office", *(f"user:{c}" for c in cosigners), *(f"bureau:{b}" for b in bureaus)}
            if state == Status.CLOSED and rng.random() < 0.35:
                acl.add("public")
        yield SearchDocument.of(
            "proposal",
            object_id,
            texts={"title": text.title, "body": text.body, "replies": replies},
            keywords={
                "kind": [KIND[chamber]],
                "status": [str(state)],
                "year": [str(year)],
                "session": [str(sessions[(chamber, year)])],
                "bureau": sorted(map(str, set(bureaus))),
                "outcome_class": [original.reply_class] if state in REPLIED_STATES else [],
                "category": [original.category],
                "proposer": [str(proposer)],
                "number": number,
            },
            acl=sorted(acl),
            date=_moment(rng, year),
        )


# --- consultations and their messages --------------------------------------------------------

DEPUTY_FILLERS = [
    "好的，谢谢！",
    "明白了，我再跟居民解释一下。",
    "请问大概什么时候能有结果？",
    "能否把相关文件发我一份？",
    "这个情况我下周再去现场看看。",
    "收到。",
    "辛苦了，期待尽快落实。",
    "居民对这件事意见比较大，希望能抓紧。",
]
EXPERT_FILLERS = [
    "好的，我查一下相关政策，请稍等。",
    "您反映的情况我们记下了，会转交相关处室。",
    "不客气，有问题随时联系。",
    "这个需要会同区里一起研究，我们会尽快答复。",
    "相关文件我稍后发您。",
    "感谢代表的关心和支持。",
]
ATTACHMENTS = ["{topic}情况说明.pdf", "{district}现场照片.jpg", "{topic}有关政策汇编.docx", "居民联名信.pdf"]
_DISTRICT = re.compile("|".join(DISTRICTS))
_ROAD = re.compile("|".join(ROADS))
_FIGURE = re.compile(r"\d+")
_CLAUSE = re.compile(r"(?<=[，；。？！])")


@dataclass(frozen=True)
class Dialogue:
    bureau: str
    topic: str
    lines: tuple[tuple[str, str], ...]  # (deputy | expert, text)


@cache
def dialogues() -> tuple[Dialogue, ...]:
    with open(FIXTURES / "consultations.jsonl", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    return tuple(
        Dialogue(row["bureau"], row["topic"], tuple((m["from"], m["text"]) for m in row["messages"])) for row in rows
    )


@dataclass(frozen=True)
class Line:
    seq: int
    sender: int | None  # None: a system line
    kind: str  # text / file / system
    text: str  # the body, or the file name of a file
    at: datetime


@dataclass(frozen=True)
class Conversation:
    key: int  # 1, 2, 3 … (bench_search maps it to the consultation's primary key)
    bureau: int  # 1-based position in bureaus.json (bench_search maps it to the bureau's key)
    deputy: int
    expert: int
    topic: str
    started: datetime
    lines: tuple[Line, ...]


def _vary(text: str, rng: random.Random, moved: dict[str, str], road: str) -> str:
    text = _DISTRICT.sub(lambda match: moved[match.group(0)], text)
    text = _ROAD.sub(road, text)
    return _FIGURE.sub(lambda match: str(max(1, int(int(match.group(0)) * rng.uniform(0.5, 1.8)))), text)


def _spoken(dialogue: Dialogue, index: int, rng: random.Random) -> str:
    """A line of the dialogue, sometimes its first clause joined to a clause of another line of the same speaker."""
    speaker, text = dialogue.lines[index]
    if rng.random() < 0.3:
        same = [t for s, t in dialogue.lines if s == speaker and t != text]
        if same:
            head = next(c for c in _CLAUSE.split(text) if c)
            tail = [c for c in _CLAUSE.split(rng.choice(same)) if c]
            return head + rng.choice(tail)
    return text


def conversations(messages: int, *, seed: int = 2026) -> Iterator[Conversation]:
    """Threads of 8–30 lines until ``messages`` lines are written (the last thread is cut to fit)."""
    rng = random.Random(seed)
    names = bureau_names()
    written, key = 0, 0
    while written < messages:
        key += 1
        dialogue = rng.choice(dialogues())
        bureau = names.index(dialogue.bureau) + 1 if dialogue.bureau in names else 1
        deputy = rng.choice(DEPUTIES["npc" if rng.random() < 0.6 else "cppcc"])
        expert = EXPERTS[(bureau - 1) * 3 + rng.randint(0, 2)]
        moved = dict(zip(DISTRICTS, rng.sample(DISTRICTS, len(DISTRICTS)), strict=True))
        road = rng.choice(ROADS)
        started = _moment(rng, rng.choice((2024, 2025, 2026, 2026)))
        at = started
        texts: list[tuple[int | None, str, str]] = [(None, "system", f"{_name(rng)}发起了咨询：{dialogue.topic}")]
        for index in range(len(dialogue.lines)):
            speaker = deputy if dialogue.lines[index][0] == "deputy" else expert
            texts.append((speaker, "text", _vary(_spoken(dialogue, index, rng), rng, moved, road)))
            if rng.random() < 0.35:
                fillers = DEPUTY_FILLERS if speaker == deputy else EXPERT_FILLERS
                texts.append((rng.choice((deputy, expert)), "text", rng.choice(fillers)))
            if rng.random() < 0.04:
                name = rng.choice(ATTACHMENTS).format(topic=dialogue.topic, district=rng.choice(DISTRICTS))
                texts.append((rng.choice((deputy, expert)), "file", name))
        texts.append((None, "system", "咨询已结束"))
        texts = texts[: messages - written]
        lines = []
        for seq, (sender, kind, text) in enumerate(texts, start=1):
            at += timedelta(seconds=rng.randint(15, 240))
            lines.append(Line(seq, sender, kind, text, at))
        written += len(lines)
        yield Conversation(key, bureau, deputy, expert, dialogue.topic, started, tuple(lines))


def message_documents(conversations: Iterator[Conversation]) -> Iterator[SearchDocument]:
    """Ids 1..n in order, as ``chat.search.message_document`` builds them (office, the deputy, the expert)."""
    object_id = 0
    for talk in conversations:
        acl = sorted({"office", f"user:{talk.deputy}", f"user:{talk.expert}"})
        for line in talk.lines:
            object_id += 1
            yield SearchDocument.of(
                "message",
                object_id,
                texts={"body": line.text},
                keywords={
                    "kind": [line.kind],
                    "consultation": [str(talk.key)],
                    "bureau": [str(talk.bureau)],
                    "sender": [str(line.sender)] if line.sender else [],
                    "year": [str(line.at.year)],
                },
                acl=acl,
                date=line.at,
            )


# --- queries ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Viewer:
    """Who searches: ``staff`` (sees everything), a ``deputy``, a bureau ``handler`` or an ``expert``."""

    role: str
    id: int = 0  # the user (deputy, expert) or the bureau (handler)

    def acl(self, doc_type: str) -> list[str]:
        """The keys a searcher holds, as ``proposals.search.proposal_acl`` and ``chat.search`` write them."""
        if self.role == "staff":
            return ["office"]
        if self.role == "handler":
            return [f"bureau:{self.id}"]
        if doc_type == "proposal":
            return ["public", f"user:{self.id}"]
        return [f"user:{self.id}"]


@dataclass(frozen=True)
class Universe:
    """Ids and values present in the corpus, for queries that find something."""

    proposal_deputies: Sequence[int]
    bureaus: Sequence[int]
    numbers: Sequence[tuple[int, str, int]]  # (year, prefix, serial) of registered proposals
    message_deputies: Sequence[int]
    experts: Sequence[int]
    message_bureaus: Sequence[int]
    bureau_names: Mapping[int, str] = field(default_factory=dict)  # of message_bureaus
    expert_bureaus: Mapping[int, int] = field(default_factory=dict)  # expert user -> bureau
    years: Sequence[str] = ("2022", "2023", "2024", "2025", "2026", "2027")
    categories: Sequence[str] = ()
    statuses: Sequence[str] = ("closed", "handling", "follow_up", "replied")


@dataclass(frozen=True)
class BenchQuery:
    category: str
    query: SearchQuery
    viewer: Viewer


@dataclass(frozen=True)
class Vocabulary:
    """Words of the written texts by how many of them hold the word (common, medium, rare)."""

    common: Sequence[str]
    medium: Sequence[str]
    rare: Sequence[str]
    parts: Sequence[str]  # two characters of a longer word (城市 of 城市更新)
    phrases: Sequence[str]  # 4–7 characters straight from a text
    pairs: Sequence[tuple[str, str]]  # two words of the same text


_NUMERAL = re.compile(r"[0-9一二三四五六七八九十百千万亿两零半余多]")


def _vocabulary(texts: Sequence[str], rng: random.Random, common: int) -> Vocabulary:
    """Words binned by how many texts hold them: the ``common`` most frequent, the next ten times as many, and
    words of one text only (no figures: 一千三百个 is not what people search for)."""
    per_text = [{w for w in analysis.words(analysis.normalize(t)) if len(w) > 1} for t in texts]
    frequency = Counter(word for words in per_text for word in words)
    ranked = sorted(frequency, key=lambda word: (-frequency[word], word))  # ties by name: sets are unordered
    rare = sorted(w for w, count in frequency.items() if count == 1 and len(w) >= 3 and not _NUMERAL.search(w))
    parts = sorted({w[i : i + 2] for w in frequency if len(w) >= 4 and frequency[w] >= 2 for i in (0, len(w) - 2)})
    runs = [run for text in texts for run in re.findall(r"[\u4e00-\u9fff]{6,}", analysis.normalize(text))]
    phrases = []  # two or three words in a row (no punctuation between), as someone quotes what they remember
    for run in rng.sample(runs, min(len(runs), 600)):
        segmented = analysis.words(run)
        start = rng.randrange(max(1, len(segmented) - 2))
        phrase = "".join(segmented[start : start + rng.choice((2, 3))])
        if 4 <= len(phrase) <= 10:
            phrases.append(phrase)
    pairs = []
    for words in per_text:
        usable = sorted(w for w in words if 2 <= frequency[w] <= len(texts) // 5)
        if len(usable) >= 2:
            pairs.append(tuple(rng.sample(usable, 2)))
    medium = sorted(ranked[common : common * 11])
    return Vocabulary(sorted(ranked[:common]), medium, rare, parts, phrases, pairs)  # type: ignore[arg-type]


@cache
def proposal_vocabulary() -> Vocabulary:
    texts = [f"{o.title}\n{o.body}\n{o.reply}" for o in originals()]
    return _vocabulary(texts, random.Random(7), common=60)


@cache
def message_vocabulary() -> Vocabulary:
    texts = [text for d in dialogues() for _, text in d.lines]
    return _vocabulary(texts, random.Random(8), common=30)


@cache
def bureau_words(bureau: str) -> tuple[str, ...]:
    """The 40 commonest words of one bureau's dialogues: what its experts, or a search within it, would look for."""
    lines = [text for d in dialogues() if d.bureau == bureau for _, text in d.lines]
    counts = Counter(w for text in lines for w in set(analysis.words(analysis.normalize(text))) if len(w) > 1)
    return tuple(sorted(counts, key=lambda word: (-counts[word], word))[:40])


def _bureau_word(rng: random.Random, universe: Universe, bureau: int | None) -> str:
    return rng.choice(bureau_words(universe.bureau_names.get(bureau or 0, "")) or M().common)


def _expert(rng: random.Random, u: Universe) -> BenchQuery:
    expert = rng.choice(list(u.experts))
    return _m("m 专家", _bureau_word(rng, u, u.expert_bureaus.get(expert)), Viewer("expert", expert))


def _in_bureau(rng: random.Random, u: Universe) -> BenchQuery:
    bureau = rng.choice(list(u.message_bureaus))
    word = _bureau_word(rng, u, bureau)
    return _m("m 词+单位+分面", word, STAFF, filters={"bureau": [str(bureau)]}, facets=MESSAGE_FACETS)


@cache
def _traditional() -> Callable[[str], str]:
    import opencc

    return opencc.OpenCC("s2t").convert


PROPOSAL_FACETS = ("category", "year", "status", "outcome_class", "bureau")
MESSAGE_FACETS = ("bureau", "kind", "year")
Maker = Callable[[random.Random, Universe], BenchQuery]


def _p(category: str, text: str, viewer: Viewer, **options: object) -> BenchQuery:
    return BenchQuery(category, SearchQuery("proposal", text, acl=viewer.acl("proposal"), **options), viewer)  # type: ignore[arg-type]


def _m(category: str, text: str, viewer: Viewer, **options: object) -> BenchQuery:
    return BenchQuery(category, SearchQuery("message", text, acl=viewer.acl("message"), **options), viewer)  # type: ignore[arg-type]


STAFF = Viewer("staff")


def _proposal_filter(rng: random.Random, u: Universe) -> dict[str, list[str]]:
    name = rng.choice(("year", "category", "status", "bureau"))
    values = {"year": u.years, "category": u.categories, "status": u.statuses, "bureau": [str(b) for b in u.bureaus]}
    return {name: [rng.choice(list(values[name]))]}


def _number(rng: random.Random, u: Universe) -> str:
    year, prefix, serial = rng.choice(list(u.numbers))
    return f"{year}-{prefix}-{serial:04d}"


def _deputy(rng: random.Random, u: Universe) -> Viewer:
    return Viewer("deputy", rng.choice(list(u.proposal_deputies)))


P = proposal_vocabulary
M = message_vocabulary
#: (category, weight in a thousand, how to make one). Proposals 620, messages 380.
MIX: list[tuple[str, int, Maker]] = [
    ("p 常见词", 70, lambda r, u: _p("p 常见词", r.choice(P().common), STAFF)),
    ("p 中频词", 60, lambda r, u: _p("p 中频词", r.choice(P().medium), STAFF)),
    ("p 少见词", 50, lambda r, u: _p("p 少见词", r.choice(P().rare), STAFF)),
    ("p 词的一部分", 40, lambda r, u: _p("p 词的一部分", r.choice(P().parts), STAFF)),
    ("p 两词(空格)", 50, lambda r, u: _p("p 两词(空格)", " ".join(r.choice(P().pairs)), STAFF)),
    ("p 两词(连写)", 30, lambda r, u: _p("p 两词(连写)", "".join(r.choice(P().pairs)), STAFF)),
    ("p 引号短语", 40, lambda r, u: _p("p 引号短语", f"“{r.choice(P().phrases)}”", STAFF)),
    ("p 繁体", 25, lambda r, u: _p("p 繁体", _traditional()(r.choice(P().medium)), STAFF)),
    ("p 编号", 35, lambda r, u: _p("p 编号", _number(r, u), STAFF)),
    ("p 第N号", 15, lambda r, u: _p("p 第N号", f"第{r.choice(list(u.numbers))[2]:04d}号", STAFF)),
    (
        "p 词+筛选",
        50,
        lambda r, u: _p("p 词+筛选", r.choice(P().medium), STAFF, filters=_proposal_filter(r, u)),
    ),
    ("p 词+分面", 45, lambda r, u: _p("p 词+分面", r.choice(P().medium), STAFF, facets=PROPOSAL_FACETS)),
    ("p 常见词+分面", 20, lambda r, u: _p("p 常见词+分面", r.choice(P().common), STAFF, facets=PROPOSAL_FACETS)),
    ("p 代表", 30, lambda r, u: _p("p 代表", r.choice(P().medium), _deputy(r, u))),
    ("p 代表+分面", 15, lambda r, u: _p("p 代表+分面", r.choice(P().common), _deputy(r, u), facets=PROPOSAL_FACETS)),
    ("p 承办单位", 20, lambda r, u: _p("p 承办单位", r.choice(P().medium), Viewer("handler", r.choice(u.bureaus)))),
    ("p 最新优先", 15, lambda r, u: _p("p 最新优先", r.choice(P().common), STAFF, sort="newest")),
    (
        "p 仅筛选+分面",
        10,
        lambda r, u: _p("p 仅筛选+分面", "", STAFF, filters=_proposal_filter(r, u), facets=PROPOSAL_FACETS),
    ),
    ("m 常见词", 60, lambda r, u: _m("m 常见词", r.choice(M().common), STAFF)),
    ("m 中频词", 60, lambda r, u: _m("m 中频词", r.choice(M().medium), STAFF)),
    ("m 少见词", 40, lambda r, u: _m("m 少见词", r.choice(M().rare), STAFF)),
    ("m 两词", 40, lambda r, u: _m("m 两词", " ".join(r.choice(M().pairs)), STAFF)),
    ("m 引号短语", 40, lambda r, u: _m("m 引号短语", f"“{r.choice(M().phrases)}”", STAFF)),
    ("m 代表", 60, lambda r, u: _m("m 代表", r.choice(M().medium), Viewer("deputy", r.choice(u.message_deputies)))),
    ("m 专家", 30, _expert),
    ("m 词+单位+分面", 50, _in_bureau),
]


def mixed_queries(universe: Universe, n: int, *, seed: int = 5) -> list[BenchQuery]:
    """``n`` queries in the proportions of ``MIX``, shuffled (the same list for every engine)."""
    rng = random.Random(seed)
    total = sum(weight for _, weight, _ in MIX)
    queries: list[BenchQuery] = []
    for _, weight, make in MIX:
        queries += [make(rng, universe) for _ in range(max(1, round(n * weight / total)))]
    rng.shuffle(queries)
    return queries[:n]


def engine_universe(proposals: int, messages: int) -> Universe:
    """The universe of ``proposal_documents(proposals)`` and ``conversations(messages)``, read from them."""
    deputies, numbers, categories = set(), [], set()
    for document in proposal_documents(proposals):
        deputies.add(int(document.keywords["proposer"][0]))
        categories.add(document.keywords["category"][0])
        if document.keywords["number"]:
            year, prefix, serial = document.keywords["number"][0].split("-")
            numbers.append((int(year), prefix, int(serial)))
    talkers, experts, bureaus = set(), {}, set()
    for talk in conversations(messages):
        talkers.add(talk.deputy)
        experts[talk.expert] = talk.bureau
        bureaus.add(talk.bureau)
    return Universe(
        proposal_deputies=sorted(deputies),
        bureaus=list(range(1, len(bureau_names()) + 1)),
        numbers=numbers,
        message_deputies=sorted(talkers),
        experts=sorted(experts),
        message_bureaus=sorted(bureaus),
        bureau_names={index + 1: name for index, name in enumerate(bureau_names())},
        expert_bureaus=experts,
        categories=sorted(categories),
    )


# --- measuring and printing ------------------------------------------------------------------


@dataclass
class Samples:
    """Milliseconds per query, by category."""

    by_category: dict[str, list[float]] = field(default_factory=dict)

    def add(self, category: str, ms: float) -> None:
        self.by_category.setdefault(category, []).append(ms)

    @property
    def all(self) -> list[float]:
        return [ms for values in self.by_category.values() for ms in values]


def percentile(samples: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0–100), interpolated; the single value for one sample."""
    if len(samples) == 1:
        return samples[0]
    cuts = statistics.quantiles(samples, n=1000, method="inclusive")
    return cuts[min(len(cuts) - 1, max(0, round(q * 10) - 1))]


def pad(text: str, width: int) -> str:
    """Left-aligned in ``width`` terminal columns, where a Chinese character takes two."""
    wide = sum(unicodedata.east_asian_width(ch) in "WF" for ch in text)
    return text + " " * max(0, width - len(text) - wide)


def batched(items: Iterator[SearchDocument], size: int) -> Iterator[list[SearchDocument]]:
    while batch := list(islice(items, size)):
        yield batch


def megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"
