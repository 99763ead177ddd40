"""Users' searches on every engine (issue 14): synonyms, plain-language questions, numbers inside text,
bureau names, and the strict reading kept for ``expand=False``.

The built-in synonym tests run on every engine without a database; the admin table's run on every engine
with one (the table lives there). Elasticsearch runs when ``ELASTICSEARCH_URL`` is set, as the behaviour
suite (``conftest.engine``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache

from search import synonyms
from search.backends import SearchBackend
from search.documents import SearchQuery
from search.models import Synonym
from tests.search.test_behaviour import on, proposal

OFFICE = ("office",)

SHARED_BIKES = proposal(
    201,
    "关于规范互联网租赁自行车停放秩序的建议",
    "地铁站口互联网租赁自行车堆积，占用盲道，建议划设停放区并实行电子围栏管理。",
    date=on(2025, 3, 1),
    category="交通",
    number=(2025, "建", 42),
)
RIDE_HAILING = proposal(
    202,
    "关于提升网络预约出租汽车服务质量的提案",
    "部分网络预约出租汽车车况差、绕路收费，建议加强平台监管。",
    date=on(2026, 3, 1),
    category="交通",
    number=(2026, "建", 42),
)
SQUARE_DANCE = proposal(
    203,
    "关于治理居民区夜间噪声的建议",
    "小区广场舞音响音量过大，晚上九点后仍有噪声扰民，建议规定时段和音量。",
    date=on(2026, 4, 1),
    category="生态环境",
)
LOOK_ALIKE = proposal(
    204,
    "关于小区夜间照明的建议",
    "部分小区晚上路灯不亮，居民出行不便，建议增设照明。",
    date=on(2026, 5, 1),
    category="城市建设",
)
HANDLED_BY_HEALTH = proposal(
    205,
    "关于增设社区夜间门诊的建议",
    "居民晚上看病不便，建议社区卫生服务中心延长门诊时间。",
    date=on(2026, 6, 1),
    category="医疗卫生",
    replies="",
)
DOCUMENTS = (SHARED_BIKES, RIDE_HAILING, SQUARE_DANCE, LOOK_ALIKE)


def with_bureaus(document, names: str):  # type: ignore[no-untyped-def]
    texts = dict(document.texts)
    texts["bureaus"] = names
    return type(document).of(
        "proposal", document.object_id, texts=texts, keywords=document.keywords, acl=document.acl, date=document.date
    )


@pytest.fixture
def corpus(engine: SearchBackend) -> SearchBackend:
    engine.index("proposal", [*DOCUMENTS, with_bureaus(HANDLED_BY_HEALTH, "市卫生健康委 海滨市卫生健康委员会")])
    return engine


def ranked(engine: SearchBackend, text: str, *, expand: bool | None = None) -> list[int]:
    query = SearchQuery(doc_type="proposal", text=text, acl=OFFICE, limit=50, expand=expand)
    return [hit.object_id for hit in engine.search(query).hits]


# --- synonyms --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("query", "expected"), [("共享单车", SHARED_BIKES), ("网约车", RIDE_HAILING)])
def test_a_built_in_synonym_finds_the_policy_term(corpus: SearchBackend, query: str, expected: object) -> None:
    assert ranked(corpus, query) == [expected.object_id]  # type: ignore[attr-defined]
    assert ranked(corpus, query, expand=False) == []  # the strict reading (the baseline) does not expand


def test_the_term_as_typed_ranks_above_its_synonym(corpus: SearchBackend) -> None:
    typed = proposal(211, "关于共享单车的建议", "共享单车乱停", date=on(2024, 1, 1), category="交通")
    corpus.index("proposal", [typed])
    assert ranked(corpus, "共享单车") == [typed.object_id, SHARED_BIKES.object_id]


@pytest.fixture
def fresh_synonyms() -> Iterator[None]:
    cache.delete(synonyms.STAMP_KEY)
    synonyms.reset()
    yield
    cache.delete(synonyms.STAMP_KEY)
    synonyms.reset()


@pytest.mark.django_db(transaction=True)
def test_a_group_added_in_the_admin_applies_on_the_next_query(corpus: SearchBackend, fresh_synonyms: None) -> None:
    assert ranked(corpus, "小黄车") == []

    group = Synonym.objects.create(terms="小黄车, 互联网租赁自行车", note="旧称")
    assert ranked(corpus, "小黄车") == [SHARED_BIKES.object_id]  # no restart: the stamp changed

    group.active = False
    group.save()
    assert ranked(corpus, "小黄车") == []
    group.delete()


# --- plain-language questions ----------------------------------------------------------------------


def test_a_question_finds_its_subject_without_its_wording(corpus: SearchBackend) -> None:
    hits = ranked(corpus, "我们小区晚上广场舞太吵了有没有人提过")

    assert hits[0] == SQUARE_DANCE.object_id
    assert ranked(corpus, "我们小区晚上广场舞太吵了有没有人提过", expand=False) == []


def test_a_look_alike_sharing_words_but_not_the_subject_ranks_below(corpus: SearchBackend) -> None:
    hits = ranked(corpus, "小区晚上广场舞噪音")
    assert (
        hits.index(SQUARE_DANCE.object_id) < hits.index(LOOK_ALIKE.object_id) if LOOK_ALIKE.object_id in hits else True
    )
    assert hits[0] == SQUARE_DANCE.object_id


def test_documents_holding_every_word_rank_first(corpus: SearchBackend) -> None:
    # 小区 晚上 照明: the look-alike holds all three; the others at most two
    assert ranked(corpus, "小区 晚上 照明 噪声")[0] in {LOOK_ALIKE.object_id, SQUARE_DANCE.object_id}
    assert ranked(corpus, "小区 晚上 路灯")[0] == LOOK_ALIKE.object_id


def test_two_words_are_both_required(corpus: SearchBackend) -> None:
    assert ranked(corpus, "网约车 噪声") == []


def test_a_query_of_generic_words_only_still_searches_them(corpus: SearchBackend) -> None:
    assert set(ranked(corpus, "建议")) == {doc.object_id for doc in (*DOCUMENTS, HANDLED_BY_HEALTH)}


# --- numbers inside text ---------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["关于2025-建-0042的答复", "2025-建-42号建议办理得怎么样"])
def test_a_full_number_inside_text_finds_that_proposal_first(corpus: SearchBackend, query: str) -> None:
    assert ranked(corpus, query)[0] == SHARED_BIKES.object_id


def test_a_serial_inside_text_finds_every_session_with_it_and_the_text(corpus: SearchBackend) -> None:
    hits = ranked(corpus, "第0042号 噪声")

    assert set(hits[:2]) == {SHARED_BIKES.object_id, RIDE_HAILING.object_id}  # the number first
    assert SQUARE_DANCE.object_id in hits  # and the text search too


def test_a_bare_serial_also_searches_text(engine: SearchBackend) -> None:
    quoted = proposal(221, "关于落实0042号文件的建议", "按0042号文件执行。", date=on(2024, 1, 1), category="交通")
    engine.index("proposal", [SHARED_BIKES, quoted])

    assert ranked(engine, "0042") == [SHARED_BIKES.object_id, quoted.object_id]
    assert ranked(engine, "0042", expand=False) == [SHARED_BIKES.object_id]


# --- bureau names ----------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["卫健委", "卫生健康委 门诊", "市卫生健康委员会"])
def test_a_bureau_name_or_abbreviation_finds_the_proposals_it_handles(corpus: SearchBackend, query: str) -> None:
    assert ranked(corpus, query) == [HANDLED_BY_HEALTH.object_id]
