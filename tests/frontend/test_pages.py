"""The server-rendered pages: what each role sees, in Chinese by default and in English on request.

These drive the pages through Django's test client; tests/e2e walks the same pages in Chromium.
"""

from __future__ import annotations

import contextlib
import gettext
import io
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import pytest
from django.test import Client
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from consult.kernel.exceptions import InvalidInput
from consult.models import Bureau, DeputyContact, User
from consult.people import services
from tests.conftest import REPO_ROOT
from tests.required import skip_or_fail

LOCALE_DIR = REPO_ROOT / "frontend" / "locale" / "zh_Hans" / "LC_MESSAGES"
PO_FILE = LOCALE_DIR / "django.po"
MO_FILE = LOCALE_DIR / "django.mo"


class Page(Protocol):
    """What these helpers need of a test-client response."""

    content: bytes


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(response: Page) -> str:
    return response.content.decode()


def stats_on(response: Page) -> dict[str, int]:
    return {name: int(value) for name, value in re.findall(r'data-stat="(\w+)">(\d+)<', text(response))}


def nav_labels(response: Page) -> list[str]:
    nav = re.search(r'<nav class="mainnav".*?</nav>', text(response), re.S)
    return re.findall(r"<a [^>]*>([^<]+)</a>", nav.group(0)) if nav else []


# --- home, by role ------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_the_login_page(client: Client, db: None) -> None:
    response = client.get("/")

    assertRedirects(response, "/accounts/login/?next=/")


def test_deputy_home_greets_in_chinese_and_offers_bureaus(deputy: User, bureau_a: Bureau, bureau_b: Bureau) -> None:
    response = signed_in(deputy).get("/")

    assert response.status_code == 200
    assertContains(response, '<html lang="zh-hans">')
    assertContains(response, "王建国，您好")
    assertContains(response, "我的履职信息")
    assertContains(response, "人大代表")
    assertContains(response, "东湖区代表团")
    assertContains(response, '<a href="/bureaus/jw/">市教委</a>', html=True)
    assertContains(response, '<a href="/bureaus/jtw/">市交通委</a>', html=True)
    assertNotContains(response, "平台概况")
    assert nav_labels(response) == ["首页", "在线咨询", "我的建议提案", "委办局", "我的资料"]


def test_cppcc_member_home_shows_the_sector_not_a_delegation(member: User, bureau_a: Bureau) -> None:
    response = signed_in(member).get("/")

    assert response.status_code == 200
    assertContains(response, "李雪梅，您好")
    assertContains(response, "我的履职信息")
    assertContains(response, "政协委员")
    assertContains(response, "医药卫生界")
    assertNotContains(response, "代表团")
    assertContains(response, '<a href="/bureaus/jw/">市教委</a>', html=True)


def test_expert_home_shows_their_own_bureau(expert: User, bureau_b: Bureau) -> None:
    response = signed_in(expert).get("/")

    assert response.status_code == 200
    assertContains(response, "陈志远，您好")
    assertContains(response, "我的单位")
    assertContains(response, '<a href="/bureaus/jw/">海滨市教育委员会</a>', html=True)
    assertContains(response, "处长")
    assertNotContains(response, "海滨市交通委员会")
    assertNotContains(response, "我的履职信息")
    assertNotContains(response, "平台概况")


def test_handler_home_shows_their_bureau_and_lead_duty(handler: User, bureau_a: Bureau) -> None:
    response = signed_in(handler).get("/")

    assert response.status_code == 200
    assertContains(response, "刘芳，您好")
    assertContains(response, "我的单位")
    assertContains(response, '<a href="/bureaus/jtw/">海滨市交通委员会</a>', html=True)
    assertContains(response, "建议提案办理牵头人")
    assertNotContains(response, "海滨市教育委员会")
    assertContains(response, "本单位暂无其他应询专家。")


@pytest.mark.usefixtures("deputy", "cosigner", "member", "expert", "handler")
def test_staff_home_shows_platform_counts(staff: User) -> None:
    response = signed_in(staff).get("/")

    assert response.status_code == 200
    assertContains(response, "赵敏，您好")
    assertContains(response, "平台概况")
    assert stats_on(response) == {"bureaus": 2, "experts": 1, "handlers": 1, "npc_deputies": 2, "cppcc_members": 1}
    assertContains(response, "个委办局")
    assertContains(response, "名政协委员")
    assertNotContains(response, "系统管理")
    assert nav_labels(response) == ["首页", "立案交办", "督办", "统计", "咨询统计", "搜索", "委办局", "我的资料"]


@pytest.mark.usefixtures("expert", "deputy")
def test_admin_home_shows_counts_and_the_administration_link(admin_user: User) -> None:
    response = signed_in(admin_user).get("/")

    assert response.status_code == 200
    assertContains(response, "系统管理员，您好")
    assertContains(response, "平台概况")
    assert stats_on(response) == {"bureaus": 1, "experts": 1, "handlers": 0, "npc_deputies": 1, "cppcc_members": 0}
    assertContains(response, '<a href="/admin/">系统管理</a>', html=True)
    assert nav_labels(response) == [
        "首页",
        "立案交办",
        "督办",
        "统计",
        "咨询统计",
        "搜索",
        "委办局",
        "我的资料",
        "系统管理",
    ]


# --- language -------------------------------------------------------------------


def test_login_page_is_chinese_by_default(client: Client, db: None) -> None:
    response = client.get("/accounts/login/")

    assert response.status_code == 200
    assertContains(response, '<html lang="zh-hans">')
    assertContains(response, '<button type="submit" class="primary">登录</button>', html=True)
    assertContains(response, "用户名")
    assertContains(response, "密码")
    assertNotContains(response, "Sign in")
    assertContains(response, "English")  # the way out to the other language


def test_switching_to_english_translates_the_login_page(client: Client, db: None) -> None:
    switched = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    response = client.get("/accounts/login/")

    assertRedirects(switched, "/accounts/login/", fetch_redirect_response=False)
    assertContains(response, '<html lang="en">')
    assertContains(response, '<button type="submit" class="primary">Sign in</button>', html=True)
    assertNotContains(response, "登录")
    assertContains(response, "简体中文")  # and the way back


def test_switching_to_english_translates_the_home_page_and_back(deputy: User, bureau_a: Bureau) -> None:
    client = signed_in(deputy)

    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    english = client.get("/")
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    chinese = client.get("/")

    assertContains(english, '<html lang="en">')
    assertContains(english, "Hello, 王建国")
    assertContains(english, "My seat")
    assert nav_labels(english) == ["Home", "Online consultation", "My proposals", "Bureaus", "My profile"]
    assertNotContains(english, "您好")
    assertContains(chinese, "王建国，您好")


# --- bureaus ----------------------------------------------------------------------


def test_bureau_search_filters_by_name(deputy: User, bureau_a: Bureau, bureau_b: Bureau) -> None:
    response = signed_in(deputy).get("/bureaus/", {"q": "交通"})

    assert response.status_code == 200
    assertContains(response, "市交通委")
    assertNotContains(response, "市教委")


def test_bureau_search_filters_by_topic(deputy: User, bureau_a: Bureau, bureau_b: Bureau) -> None:
    response = signed_in(deputy).get("/bureaus/", {"q": "学区"})

    assertContains(response, "海滨市教育委员会")
    assertNotContains(response, "海滨市交通委员会")


def test_bureau_search_without_match_says_so(deputy: User, bureau_a: Bureau) -> None:
    response = signed_in(deputy).get("/bureaus/", {"q": "不存在的部门"})

    assert response.status_code == 200
    assertContains(response, "没有符合条件的委办局。")
    assertNotContains(response, "市教委")


def test_bureau_list_without_query_lists_all_with_expert_counts(
    deputy: User, expert: User, bureau_a: Bureau, bureau_b: Bureau
) -> None:
    response = signed_in(deputy).get("/bureaus/")

    assertContains(response, "市教委")
    assertContains(response, "市交通委")
    assertContains(response, "1 名应询专家")
    assertContains(response, "0 名应询专家")


def test_bureau_detail_shows_departments_and_experts(deputy: User, expert: User) -> None:
    response = signed_in(deputy).get("/bureaus/jw/")

    assert response.status_code == 200
    assertContains(response, "海滨市教育委员会")
    assertContains(response, "基础教育处")
    assertContains(response, "陈志远")


def test_bureau_detail_of_unknown_code_is_404(deputy: User, bureau_a: Bureau) -> None:
    response = signed_in(deputy).get("/bureaus/no-such-bureau/")

    assert response.status_code == 404


def test_inactive_bureau_is_hidden_from_deputies_but_not_from_staff(
    deputy: User, staff: User, bureau_a: Bureau
) -> None:
    Bureau.objects.filter(pk=bureau_a.pk).update(is_active=False)

    assert signed_in(deputy).get("/bureaus/jw/").status_code == 404
    assert signed_in(staff).get("/bureaus/jw/").status_code == 200


# --- profile ----------------------------------------------------------------------


@dataclass
class ContactForm:
    mobile: str = "13912345678"
    email: str = "wjg@haibin.example.cn"
    address: str = "海滨市东湖区人民路1号"
    postcode: str = "310001"

    def data(self) -> dict[str, str]:
        return {"mobile": self.mobile, "email": self.email, "address": self.address, "postcode": self.postcode}


def stored_contact(user: User) -> dict[str, str]:
    contact = DeputyContact.objects.get(profile__user=user)
    return {"mobile": contact.mobile, "email": contact.email, "address": contact.address, "postcode": contact.postcode}


def test_deputy_sees_their_contact_form(deputy: User) -> None:
    response = signed_in(deputy).get("/profile/")

    assert response.status_code == 200
    assertContains(response, "联系方式")
    assertContains(response, 'name="mobile"')
    assertContains(response, 'value="13800138000"')
    assertContains(response, "保存")


def test_deputy_saving_a_bad_mobile_gets_the_error_beside_it_and_nothing_changes(deputy: User) -> None:
    before = stored_contact(deputy)

    response = signed_in(deputy).post("/profile/", ContactForm(mobile="12345").data(), follow=True)  # 303 back

    assert response.status_code == 400
    assertContains(
        response,
        '<p class="error" data-field="mobile">手机号码应为以 1 开头的 11 位数字</p>',
        html=True,
        status_code=400,
    )
    assertContains(response, 'aria-invalid="true"', count=1, status_code=400)
    assertContains(response, 'value="12345"', status_code=400)  # what they typed stays in the box to fix
    assertNotContains(response, 'data-field="email"', status_code=400)
    assert stored_contact(deputy) == before


def test_deputy_saving_good_details_stores_them_and_redirects(deputy: User) -> None:
    client = signed_in(deputy)
    form = ContactForm()

    response = client.post("/profile/", form.data())

    assertRedirects(response, "/profile/", fetch_redirect_response=False)
    assert stored_contact(deputy) == form.data()
    page = client.get("/profile/")
    assertContains(page, "联系方式已保存。")
    assertContains(page, 'value="13912345678"')


def test_deputy_input_is_trimmed_before_it_is_stored(deputy: User) -> None:
    signed_in(deputy).post("/profile/", ContactForm(mobile="  13912345678 ", postcode=" 310001\n").data())

    assert stored_contact(deputy)["mobile"] == "13912345678"
    assert stored_contact(deputy)["postcode"] == "310001"


@pytest.mark.parametrize(
    "typed", [{"postcode": "３１０００１"}, {"mobile": "１３９１２３４５６７８"}], ids=["postcode", "mobile"]
)
def test_full_width_digits_from_a_chinese_ime_are_never_stored_as_such(deputy: User, typed: dict[str, str]) -> None:
    details = services.ContactDetails(**{**ContactForm().data(), **typed})

    with contextlib.suppress(InvalidInput):  # refusing them is right; so would be normalising them to ASCII
        services.update_own_contact(actor=deputy, contact=details)

    stored = stored_contact(deputy)
    assert stored["postcode"].isascii()
    assert stored["mobile"].isascii()


def test_expert_profile_has_no_contact_form(expert: User) -> None:
    response = signed_in(expert).get("/profile/")

    assert response.status_code == 200
    assertContains(response, "海滨市教育委员会")
    assertNotContains(response, 'name="mobile"')
    assertNotContains(response, "联系方式")


def test_expert_posting_contact_details_stores_nothing(expert: User) -> None:
    response = signed_in(expert).post("/profile/", ContactForm().data())

    assert response.status_code == 200
    assertNotContains(response, 'name="mobile"')
    assert not DeputyContact.objects.exists()


# --- the Chinese catalogue --------------------------------------------------------


@dataclass
class PoEntry:
    line: int
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)


def unquote(literal: str) -> str:
    """A PO string literal (with its quotes) as text."""
    body = literal.strip()
    if len(body) < 2 or body[0] != '"' or body[-1] != '"':
        raise AssertionError(f"not a PO string: {literal!r}")
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "r": "\r"}
    return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(0)), body[1:-1])


def parse_po(path: Path) -> list[PoEntry]:
    """Just enough of the PO format for a check: flags, msgctxt, msgid(_plural), msgstr([n]), continuations."""
    entries: list[PoEntry] = []
    entry: PoEntry | None = None
    key: tuple[str, int] = ("", 0)  # the field a continuation line extends
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#~"):  # blank, or an obsolete entry that msgfmt ignores
            continue
        if entry is None or (entry.msgstr and line.startswith(("#", "msgctxt", "msgid"))):
            entry = PoEntry(line=number)
            entries.append(entry)
        if line.startswith("#,"):
            entry.flags.update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#"):
            continue
        elif match := re.fullmatch(r'(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])?\s+(".*")', line):
            keyword, index, literal = match.groups()
            key = (keyword, int(index or 0))
            if keyword == "msgstr":
                entry.msgstr[key[1]] = unquote(literal)
            else:
                setattr(entry, keyword, unquote(literal))
        elif line.startswith('"') and key[0]:
            if key[0] == "msgstr":
                entry.msgstr[key[1]] += unquote(line)
            else:
                setattr(entry, key[0], (getattr(entry, key[0]) or "") + unquote(line))
        else:
            raise AssertionError(f"{path.name}:{number}: cannot read {raw!r}")
    return entries


def label(entry: PoEntry) -> str:
    context = f"[{entry.msgctxt}] " if entry.msgctxt else ""
    return f"line {entry.line}: {context}{entry.msgid!r}"


def test_chinese_catalogue_has_no_untranslated_or_fuzzy_entries() -> None:
    entries = parse_po(PO_FILE)
    header, messages = entries[0], entries[1:]

    assert header.msgid == ""
    assert "nplurals=1" in header.msgstr[0]
    assert len(messages) > 50  # the parser really read the file
    assert [label(e) for e in entries if "fuzzy" in e.flags] == []
    untranslated = [label(e) for e in messages if not e.msgstr or any(not s.strip() for s in e.msgstr.values())]
    assert untranslated == []
    assert [label(e) for e in messages if e.msgid_plural is not None and set(e.msgstr) != {0}] == []


def test_chinese_catalogue_keeps_every_placeholder() -> None:
    placeholder = re.compile(r"%\((\w+)\)[sd]|\{(\w*)\}")

    def names(value: str) -> set[str]:
        return {m.group(1) or m.group(2) for m in placeholder.finditer(value)}

    broken = [
        label(e)
        for e in parse_po(PO_FILE)[1:]
        if any(names(s) != names(e.msgid_plural or e.msgid) for s in e.msgstr.values())
    ]
    assert broken == []


APPS = ("consult", "proposals", "chat", "transcription", "search", "frontend")


def strings_in_sources() -> set[tuple[str | None, str]]:
    """(context, msgid) of every translatable literal in the apps: templates and Python alike."""
    found: set[tuple[str | None, str]] = set()
    frontend = REPO_ROOT / "frontend"
    for template in frontend.glob("templates/**/*.html"):
        source = template.read_text(encoding="utf-8")
        for m in re.finditer(r"""\{%\s*(?:translate|trans)\s+(["'])(.*?)\1(?:\s+context\s+(["'])(.*?)\3)?""", source):
            found.add((m.group(4), m.group(2)))
        for m in re.finditer(
            r"\{%\s*blocktrans(?:late)?\b(.*?)%\}(.*?)\{%\s*endblocktrans(?:late)?\s*%\}", source, re.S
        ):
            singular = m.group(2).split("{% plural %}")[0]
            found.add((None, re.sub(r"\{\{\s*(\w+)\s*\}\}", r"%(\1)s", singular)))
    modules = [path for app in APPS for path in (REPO_ROOT / app).rglob("*.py") if "migrations" not in path.parts]
    for module in modules:
        for m in re.finditer(r"""\b_\((["'])(.*?)\1\)""", module.read_text(encoding="utf-8")):
            found.add((None, m.group(2)))
    return found


def test_every_ui_string_of_every_app_is_in_the_chinese_catalogue() -> None:
    catalogue = {(e.msgctxt, e.msgid) for e in parse_po(PO_FILE)[1:]}
    strings = strings_in_sources()

    assert len(strings) > 40  # the extractor really found the UI strings
    assert sorted(strings - catalogue, key=str) == []


def test_compiled_catalogue_matches_the_po_file() -> None:
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        skip_or_fail("msgfmt (GNU gettext) is not installed")

    compiled = subprocess.run(
        [msgfmt, "--check", "-o", "-", str(PO_FILE)], capture_output=True, check=True, timeout=60
    ).stdout
    fresh = gettext.GNUTranslations(io.BytesIO(compiled))
    committed = gettext.GNUTranslations(io.BytesIO(MO_FILE.read_bytes()))

    # Compared as catalogues, not bytes: another msgfmt version may lay out the same catalogue differently.
    assert vars(committed)["_catalog"] == vars(fresh)["_catalog"], (
        "django.mo is stale: run `make messages` (or compilemessages)"
    )


def test_compiled_catalogue_is_what_django_serves() -> None:
    committed = gettext.GNUTranslations(io.BytesIO(MO_FILE.read_bytes()))

    assert committed.gettext("Sign in") == "登录"
    assert committed.gettext("Hello, %(name)s") == "%(name)s，您好"
    assert committed.pgettext("statistic", "bureaus") == "个委办局"
    assert committed.gettext("My seat") == "我的履职信息"
