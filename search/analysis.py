"""Chinese text analysis shared by every engine: normalising, segmenting, n-grams and query parsing.

- ``normalize`` folds traditional characters to simplified (OpenCC's t2s, character by character), full-width
  ASCII to half-width and Latin letters to lower case, **one character for one character**: offsets in
  the normalised text are offsets in the original, so highlights always mark the original text.
- ``grams`` turns text into overlapping character bigrams (the n-gram layer): a phrase of bigrams
  finds any part of a word (城市 finds 城市更新, 老旧小区 finds 老旧小区改造). Elasticsearch's ``cjk``
  analyzer makes the same bigrams, so both engines agree on what matches.
- ``words`` segments with jieba (``rjieba``) plus our dictionary of bureau names and policy terms;
  words rank documents and split a query into its parts (clauses).
- ``parse_query`` reads a query strictly (every clause must be found; a query that is a number is only a
  number lookup) or, as users' searches are read (``relaxed``, ``search.synonyms.parse``): proposal numbers
  are taken out of the text and looked up *besides* the text search; question and generic words
  (``data/generic_words.txt``) are left out; each word also finds its synonyms (``search.synonyms``); and
  a document need only hold ``minimum_match`` of the clauses (``minimum_should_match``), those holding all
  of them ranking first.
"""

from __future__ import annotations

import operator
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from math import ceil
from typing import TYPE_CHECKING

import rjieba

from search.dictionary import ensure_loaded

if TYPE_CHECKING:
    from search.synonyms import Thesaurus

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_BLOCKS = ((0x3400, 0x4DC0), (0x4E00, 0xA000), (0xF900, 0xFB00))
_RUN = re.compile(rf"[{_CJK}]+|[a-z0-9]+")
_CJK_CHAR = re.compile(rf"[{_CJK}]")
_NUMBER_FULL = re.compile(r"^(\d{4})\s*-\s*(\w)\s*-\s*0*(\d{1,6})$")
_NUMBER_SHORT = re.compile(r"^第?\s*0*(\d{1,6})\s*号?$")
_INNER_SPACE = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")
_QUOTED = re.compile(r"[\"“”「」『』]([^\"“”「」『』]+)[\"“”「」『』]")
#: A proposal number inside a longer text: 2026-建-0042, 第0123号, 0123号.
_NUMBER_FULL_IN = re.compile(rf"(?<!\d)(\d{{4}})\s*-\s*([{_CJK}a-z])\s*-\s*0*(\d{{1,6}})(?!\d)")
_NUMBER_SHORT_IN = re.compile(r"第\s*0*(\d{1,6})\s*号?(?!\d)|(?<!\d)0*(\d{1,6})\s*号")
_BARE_NUMBER = re.compile(r"^\s*(0*(\d{1,6}))\s*$")


@cache
def _fold_table() -> dict[int, str]:
    """Traditional -> simplified (single characters only) + full-width ASCII + Latin lower case."""
    import opencc

    # Each CJK character converted on its own line by OpenCC's t2s: a character-for-character table.
    characters = [chr(code) for start, end in _CJK_BLOCKS for code in range(start, end)]
    converted = opencc.OpenCC("t2s").convert("\n".join(characters)).split("\n")
    table: dict[int, str] = {}
    if len(converted) == len(characters):
        for original, simplified in zip(characters, converted, strict=True):
            if simplified != original and len(simplified) == 1:
                table[ord(original)] = simplified
    for code in range(0xFF01, 0xFF5F):  # full-width ！ .. ～
        table[code] = chr(code - 0xFEE0)
    table[0x3000] = " "
    for code in range(ord("A"), ord("Z") + 1):
        table[code] = chr(code + 32)
    for code in range(0xFF21, 0xFF3B):  # full-width Ａ..Ｚ straight to lower case
        table[code] = chr(code - 0xFEE0 + 32)
    return table


def normalize(text: str) -> str:
    """Same length as ``text``, character for character (see the module docstring)."""
    return text.translate(_fold_table())


def grams(normalized: str) -> list[str]:
    """Character bigrams of each run of Chinese characters; Latin words and numbers whole.

    A run of one Chinese character stays one token, so a lone character can still be found.
    """
    tokens: list[str] = []
    for run in _RUN.findall(normalized):
        if not _CJK_CHAR.match(run) or len(run) == 1:
            tokens.append(run)
        else:
            tokens.extend(map(operator.add, run, run[1:]))
    return tokens


def _add_word(term: str) -> None:
    rjieba.add_word(normalize(term), 100_000, None)


def _segmenter_ready() -> None:
    ensure_loaded(_add_word)


_taught: set[str] = set()


def add_query_word(term: str) -> None:
    """Keep ``term`` whole when segmenting from now on (synonyms added in the admin)."""
    if term not in _taught:
        _taught.add(term)
        _add_word(term)


def words(normalized: str) -> list[str]:
    """Words (jieba with our dictionary), without punctuation or spaces."""
    _segmenter_ready()
    return [word for word in rjieba.cut(normalized, False) if _RUN.fullmatch(word)]


def search_words(normalized: str) -> list[str]:
    """Words and the shorter words inside long ones (城市更新 -> 城市, 更新, 城市更新): for ranking."""
    _segmenter_ready()
    return [word for word in rjieba.cut_for_search(normalized, False) if _RUN.fullmatch(word)]


@dataclass(frozen=True)
class NumberRef:
    """A proposal number in a query: ``2027-建-0123`` (full) or ``第0123号`` / ``0123`` (the serial)."""

    value: str  # the keyword to look up in the ``number`` field

    @classmethod
    def parse(cls, text: str) -> NumberRef | None:
        stripped = normalize(text.strip())
        full = _NUMBER_FULL.match(stripped)
        if full:
            return cls(f"{full[1]}-{full[2]}-{int(full[3]):04d}")
        short = _NUMBER_SHORT.match(stripped)
        if short and (stripped.startswith("第") or stripped.endswith("号") or len(stripped) <= 6):
            return cls(str(int(short[1])))
        return None


def number_keywords(year: int, prefix: str, serial: int) -> list[str]:
    """What a registered proposal's ``number`` field holds: the full number and the bare serial."""
    return [f"{year}-{prefix}-{serial:04d}", str(serial)]


@dataclass(frozen=True)
class Clause:
    """One part of a query: its normalised text and the bigrams of that text.

    ``synonyms``: other ways of saying it (each found as its own phrase of bigrams, weighing
    ``SYNONYM_WEIGHT`` of the words typed); ``quoted``: a phrase in quotes, always required.
    """

    text: str
    grams: tuple[str, ...]
    synonyms: tuple[tuple[str, tuple[str, ...]], ...] = ()
    quoted: bool = False

    @property
    def variants(self) -> tuple[tuple[str, tuple[str, ...], float], ...]:
        """(text, bigrams, weight) of the clause as typed and of each synonym."""
        typed = ((self.text, self.grams, 1.0),)
        return typed + tuple((text, tokens, SYNONYM_WEIGHT) for text, tokens in self.synonyms)


#: What a synonym's match weighs against the word as typed: a synonym scores a constant
#: ``field boost x SYNONYM_WEIGHT x SYNONYM_SCORE`` (no term statistics: a long synonym has many bigrams,
#: and would otherwise outscore the word the user typed), the word typed its BM25 score.
SYNONYM_WEIGHT = 0.8
SYNONYM_SCORE = 4.0


@dataclass(frozen=True)
class ParsedQuery:
    clauses: tuple[Clause, ...]
    number: NumberRef | None
    #: None: every clause must be found (strict). Otherwise: quoted clauses must, and at least this many
    #: of the others; documents holding every clause rank first.
    minimum_match: int | None = None

    @property
    def empty(self) -> bool:
        return not self.clauses and self.number is None

    @property
    def highlight_terms(self) -> list[str]:
        terms = [clause.text for clause in self.clauses]
        return terms + [text for clause in self.clauses for text, _ in clause.synonyms]

    @property
    def optional(self) -> tuple[Clause, ...]:
        return tuple(clause for clause in self.clauses if not clause.quoted)

    @property
    def relaxed(self) -> bool:
        """Some clauses may be missing from a document (then the all-clauses bonus orders them)."""
        return self.minimum_match is not None and self.minimum_match < len(self.optional)


def minimum_match(clauses: int) -> int:
    """Of ``clauses`` words (quoted phrases aside), how many a document must hold.

    One or two: all of them (two words typed are both meant). Three or more: two, or half of them
    rounded up, whichever is more: a question's subject words, without its wording.
    """
    return clauses if clauses <= 2 else max(2, ceil(clauses / 2))


def _clause(text: str) -> Clause | None:
    tokens = grams(text)
    return Clause(text, tuple(tokens)) if tokens else None


def is_single_cjk(token: str) -> bool:
    return len(token) == 1 and _CJK_CHAR.match(token) is not None


#: One-character function words dropped from a query typed without spaces (老旧小区的停车 -> 老旧小区, 停车).
_FUNCTION_CHARS = frozenset("的了和与及在是对等把被为之或并且而也都就从向于以将")


def _chunk_parts(chunk: str, drop: frozenset[str] = frozenset()) -> list[str]:
    """A chunk typed without spaces, cut into the parts that must each be found.

    Words of two or more characters stand alone; a lone character is kept with its neighbour
    (舊小區 -> 旧 + 小区 -> 旧小区) and a run of them stays together (翠湖新村 -> 翠湖, 新村), so no
    character the user typed is silently dropped, except function words between words (and the
    words in ``drop``, which separate like function words).
    """
    parts: list[str] = []
    glue = ""
    for token in words(chunk):
        if token in drop:
            parts.extend([glue, ""] if glue else [""])
            glue = ""
            continue
        if is_single_cjk(token):
            if token in _FUNCTION_CHARS:
                parts.extend([glue] if glue else [])
                glue = ""
                parts.append("")  # a boundary: nothing glues across a function word
            else:
                glue += token
            continue
        if len(glue) == 1:
            parts.append(glue + token)
        else:
            parts.extend([glue, token] if glue else [token])
        glue = ""
    if len(glue) == 1 and parts and parts[-1]:
        parts[-1] += glue
    elif glue:
        parts.append(glue)
    kept = [part for part in parts if part]
    return kept if kept or drop else [chunk]


def _chunk_clauses(chunk: str, drop: frozenset[str] = frozenset()) -> list[Clause]:
    found = [_clause(part) for part in _chunk_parts(chunk, drop)]
    return [clause for clause in found if clause is not None]


def parse_query(
    text: str, *, max_clauses: int = 12, thesaurus: Thesaurus | None = None, relaxed: bool = False
) -> ParsedQuery:
    """Quoted text is one phrase; other text is split on spaces, then into words.

    Strict (the default): a query that is a proposal number is only that lookup; every clause must be
    found. ``relaxed``: see the module docstring; ``thesaurus`` adds each word's synonyms.
    """
    text = unicodedata.normalize("NFC", text)[:500]
    if not relaxed:
        number = NumberRef.parse(text)
        if number is not None:
            return ParsedQuery((), number)
    normalized = normalize(text)
    number, normalized = _take_number(normalized) if relaxed else (None, normalized)
    quoted: list[Clause] = []
    for phrase in _QUOTED.findall(normalized):
        clause = _clause(_INNER_SPACE.sub("", phrase.strip()))
        if clause is not None:
            quoted.append(Clause(clause.text, clause.grams, quoted=relaxed))
    chunks = _QUOTED.sub(" ", normalized).split()
    clauses = [clause for chunk in chunks for clause in _chunk_clauses(chunk)]
    if relaxed:
        generic = _generic_words()
        subject = [clause for chunk in chunks for clause in _chunk_clauses(chunk, generic)]
        if subject or quoted or number is not None:
            clauses = subject
    if relaxed:
        clauses = [_with_synonyms(clause, thesaurus) for clause in clauses]
    unique = list(dict.fromkeys([*quoted, *clauses]))[:max_clauses]
    if not relaxed:
        return ParsedQuery(tuple(unique), None)
    optional = sum(1 for clause in unique if not clause.quoted)
    return ParsedQuery(tuple(unique), number, minimum_match(optional))


def _generic_words() -> frozenset[str]:
    from search.synonyms import generic_words

    return frozenset(normalize(word) for word in generic_words())


def _with_synonyms(clause: Clause, thesaurus: Thesaurus | None) -> Clause:
    """The clause with its synonyms and, for a word glued to lone characters (给老人), the word alone."""
    inner = [word for word in words(clause.text) if len(word) > 1 and word != clause.text]
    alternatives = [*_expand(clause.text, thesaurus), *inner, *(alt for w in inner for alt in _expand(w, thesaurus))]
    unique = [text for text in dict.fromkeys(alternatives) if text != clause.text][:MAX_VARIANTS]
    synonyms = tuple((text, tuple(grams(text))) for text in unique)
    return Clause(clause.text, clause.grams, tuple((t, g) for t, g in synonyms if g), clause.quoted)


def _expand(word: str, thesaurus: Thesaurus | None) -> tuple[str, ...]:
    return thesaurus.expand(word) if thesaurus is not None else ()


#: Alternatives of one clause at most (synonyms and inner words): each is a phrase query per text field.
MAX_VARIANTS = 8


def _take_number(normalized: str) -> tuple[NumberRef | None, str]:
    """A proposal number in the text, and the text without it (a bare serial stays: it is searched too)."""
    full = _NUMBER_FULL_IN.search(normalized)
    if full:
        value = f"{full[1]}-{full[2]}-{int(full[3]):04d}"
        return NumberRef(value), normalized[: full.start()] + " " + normalized[full.end() :]
    bare = _BARE_NUMBER.match(normalized)
    if bare:
        return NumberRef(str(int(bare[2]))), bare[1]
    short = _NUMBER_SHORT_IN.search(normalized)
    if short:
        serial = short[1] or short[2]
        return NumberRef(str(int(serial))), normalized[: short.start()] + " " + normalized[short.end() :]
    return None, normalized


def similar_terms(title: str, body: str, *, limit: int = 25) -> list[str]:
    """The words that best say what a text is about: for "similar proposals" on every engine.

    Title words first (they name the subject), then the body's most frequent words; lone
    characters and very common function words are left out.
    """
    counts: dict[str, float] = {}
    for weight, text in ((3.0, title), (1.0, body[:3000])):
        for word in words(normalize(text)):
            if len(word) > 1 and word not in _STOPWORDS:
                counts[word] = counts.get(word, 0.0) + weight
    return [word for word, _ in sorted(counts.items(), key=lambda item: -item[1])[:limit]]


_STOPWORDS = frozenset(
    [
        "关于",
        "建议",
        "提案",
        "我们",
        "一些",
        "以及",
        "进一步",
        "加强",
        "推进",
        "加快",
        "工作",
        "问题",
        "有关",
        "相关",
        "进行",
        "开展",
        "目前",
        "存在",
        "没有",
        "可以",
        "已经",
        "通过",
        "为了",
        "由于",
        "因此",
        "同时",
        "其中",
        "一个",
        "这些",
        "这个",
        "我市",
        "本市",
        "全市",
        "方面",
        "情况",
        "提出",
        "希望",
        "要求",
        # words of every policy text, which say nothing of a subject (similar proposals padded with them)
        "提高",
        "提升",
        "居民",
        "群众",
        "市民",
        "完善",
        "优化",
        "健全",
        "落实",
        "规范",
        "推动",
        "促进",
        "加大",
        "力度",
        "机制",
        "体系",
        "能力",
        "水平",
        "部门",
        "政府",
        "政策",
        "措施",
        "管理",
        "服务",
        "建设",
        "发展",
        "实施",
        "统筹",
        "不断",
        "积极",
        "有效",
        "切实",
        "力争",
        "逐步",
    ]
)
