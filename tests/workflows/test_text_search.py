"""A word of the description or address finds exactly the cases that contain it, on PostgreSQL
through the index of character pairs (workflows/cases/text_search.py)."""

from __future__ import annotations

import random
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from tests.workflows.test_kpi import add_case
from workflows.cases import text_search
from workflows.cases.models import Case
from workflows.cases.search import CaseFilters, filter_cases
from workflows.cases.text_search import (
    create_postgres_index,
    drop_postgres_index,
    indexable,
    use_index,
)

TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def session(database):
    with database.session() as session:
        yield session


def found(session, word: str) -> list[str]:
    """The descriptions of the cases found, the same through the index and without it."""
    answers = []
    for by_index in (True, False):
        stmt = filter_cases(select(Case), CaseFilters(text=word, text_by_index=by_index), tz=TZ)
        answers.append(sorted(case.description for case in session.scalars(stmt)))
    assert answers[0] == answers[1], word
    return answers[0]


def test_a_word_finds_exactly_the_cases_that_contain_it(session):
    for description, address in (
        ("小区门口餐馆卫生很差，吃完腹泻", "江门市蓬江区白沙大道1号"),
        ("夜间施工噪音扰民", "江门市新会区会城街道"),
        ("路灯不亮", "White Sand Road 12"),
        ("工资被拖欠三个月", ""),
        ("50%_off 虚假宣传", "蓬江区"),
    ):
        add_case(session, description=description, address=address)
    session.commit()

    assert found(session, "噪音") == ["夜间施工噪音扰民"]  # two characters: the usual word
    assert found(session, "腹泻") == ["小区门口餐馆卫生很差，吃完腹泻"]  # at the very end
    assert found(session, "差，吃") == ["小区门口餐馆卫生很差，吃完腹泻"]  # across punctuation
    assert found(session, "白沙大道") == ["小区门口餐馆卫生很差，吃完腹泻"]  # in the address
    assert found(session, "蓬江区") == ["50%_off 虚假宣传", "小区门口餐馆卫生很差，吃完腹泻"]
    assert found(session, "sand road") == ["路灯不亮"]  # any case
    assert found(session, "%_") == ["50%_off 虚假宣传"]  # LIKE's wildcards are literal
    assert found(session, "灯") == ["路灯不亮"]  # one character: no pair, still found
    assert found(session, "拖欠工资") == []  # every pair is there, not the word
    assert found(session, "，") == ["小区门口餐馆卫生很差，吃完腹泻"]
    assert found(session, "停水") == []


def test_random_words_agree_with_a_plain_substring_test(session):
    """Texts and words drawn from Chinese, ASCII letters of both cases, digits, spaces and
    punctuation: the search answers what Python's ``in`` answers, for words taken from the
    texts (every length, at every place) and for words that are not in them."""
    rng = random.Random(7)
    alphabet = "噪音路灯工资水电物业施工餐馆卫生江门市区aAbBzZ01 9，。-_%.·"
    texts = []
    for _ in range(120):
        description = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 16)))
        address = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 8)))
        add_case(session, description=description, address=address)
        texts.append((description, address))
    session.commit()
    words = []
    for description, address in rng.sample(texts, 60):
        source = description or address or "x"
        start = rng.randrange(len(source))
        words.append(source[start : start + rng.randrange(1, 6)])
    words += ["".join(rng.choice(alphabet) for _ in range(rng.randrange(2, 4))) for _ in range(60)]
    for word in words:
        if not word.strip():
            continue  # the page and the API strip the word: a blank is no search
        expected = sorted(
            d for d, a in texts if word.lower() in d.lower() or word.lower() in a.lower()
        )
        assert found(session, word) == expected, word


def test_the_index_follows_changes_and_deletions(session):
    case = add_case(session, description="夜间施工噪音扰民", address="会城街道")
    other = add_case(session, description="路灯不亮", address="")
    session.commit()
    case.description = "楼上漏水"
    session.delete(other)
    session.commit()

    assert found(session, "噪音") == []
    assert found(session, "漏水") == ["楼上漏水"]
    assert found(session, "路灯") == []


def test_postgresql_reads_the_pairs_index_and_a_migration_indexes_stored_cases(session):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite has no such index: the search reads the descriptions")
    add_case(session, description="夜间施工噪音扰民", address="会城街道")
    session.commit()
    conn = session.connection()
    drop_postgres_index(conn)  # a database from before the migration
    create_postgres_index(conn)  # what migration 5d1e9b7c3a40 runs
    session.commit()

    assert found(session, "噪音") == ["夜间施工噪音扰民"]
    # a tiny table: make the planner show whether it can use the index at all
    session.execute(text("SET LOCAL enable_seqscan = off"))
    session.execute(text("SET LOCAL enable_indexscan = off"))
    stmt = filter_cases(select(Case.id), CaseFilters(text="噪音", text_by_index=True), tz=TZ)
    sql = str(stmt.compile(session.get_bind(), compile_kwargs={"literal_binds": True}))
    plan = " ".join(row[0] for row in session.execute(text(f"EXPLAIN {sql}")))
    assert "ix_cases_text_bigrams" in plan


def test_which_words_the_index_can_answer():
    assert indexable("噪音") and indexable("ab") and indexable("1号楼") and indexable("a1")
    assert not indexable("噪")  # one character has no pair
    assert not indexable("，。") and not indexable("a b") and not indexable("%_")


def test_a_word_in_many_cases_is_read_newest_first_and_a_rare_one_through_the_index(
    session, monkeypatch
):
    """The index lists every case of a word before the newest can be shown: for a word in
    many cases reading newest first is faster, and the planner's estimate tells them apart."""
    for i in range(300):
        add_case(session, description=f"夜间施工噪音扰民{i}", address="会城街道")
    add_case(session, description="井盖缺失", address="白沙大道")
    session.commit()
    if session.get_bind().dialect.name != "postgresql":
        assert not use_index(session, "井盖")  # SQLite has no such index
        return
    session.execute(text("ANALYZE cases"))
    assert use_index(session, "噪音") and use_index(session, "井盖")  # a small table
    assert not use_index(session, "噪")  # one character: nothing to look up
    # as if the table were large next to what a list reads: the threshold is sqrt(301)
    monkeypatch.setattr(text_search, "WALK_MATCHES", 1)
    monkeypatch.setattr(text_search, "ALWAYS_BELOW", 0)
    assert not use_index(session, "噪音")  # in 300 of 301 cases
    assert use_index(session, "井盖")  # in one
