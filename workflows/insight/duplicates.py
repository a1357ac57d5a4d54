"""Duplicate suggestions: the open cases of the last days that may be the same matter.

A case may duplicate another for three reasons, each shown with the suggestion:

- ``description``: the descriptions are alike. A description is normalised (full/half width,
  case, punctuation and the boilerplate every case says, such as 市民来电反映, taken out) and
  cut into character 2- and 3-grams; the score is the cosine of their TF-IDF vectors (IDF
  from the window's recent descriptions), times PLACE_FACTOR when the two texts name
  places and none the same.
- ``address``: the same address once normalised (full/half width, spaces, punctuation).
- ``caller``: the same caller (the canonical phone, ``cases/phones.py``). Never offered to a
  department about a confidential case (``cases/confidentiality.py``): a department must not
  learn who called that way.

Comparing a draft with the ~20,000 open cases of a week on every keystroke is too slow, so the
search is indexed (``DupKey``, table ``insight_dup_keys``): at intake, in the case's own
transaction, a case gets one row per MinHash LSH band of its description (24 bands of one hash
each) and one for its address key. A query reads the rows with the draft's keys inside the
window (index ``(key, created_at)``, each bucket's newest PER_KEY), adds the cases with the same phone (``caller_phone`` is
indexed), keeps those open and visible to the user, and scores only those few exactly. Rows
older than the window are ignored by the query and deleted hourly by the worker (``PruneJob``).
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import BigInteger, ForeignKey, Index, String, bindparam, delete, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.models import Base, BigId

from ..cases.confidentiality import is_centre
from ..cases.enums import OPEN
from ..cases.models import Case
from ..cases.phones import canonical_phone
from ..cases.service import visible_cases
from ..departments.models import Department
from ..users.models import User

#: the window's default length (config ``HOTLINE_DUPLICATE_DAYS``)
DEFAULT_DAYS = 7
#: descriptions at least this alike are suggested for their likeness alone (labelled pairs:
#: tests/workflows/test_insight_duplicates.py)
THRESHOLD = 0.2
#: how many suggestions at most
LIMIT = 5
#: MinHash: BANDS bands of ROWS hashes each. Two descriptions share a band with probability
#: 1 - (1 - J^ROWS)^BANDS for a Jaccard J of their n-gram sets: 0.92 at J=0.1, 0.995 at 0.2
#: (the same matter told in other words shares few n-grams: J is 0.1 to 0.3). The candidates
#: sharing most bands are read first (MAX_CANDIDATES)
BANDS = 24
ROWS = 1
#: a description shorter than this (normalised characters) has too little to compare
MIN_CHARS = 6
#: an address key shorter than this matches too much (一号, 门口)
MIN_ADDRESS = 5
#: candidates read from the index at most (a bucket crowded by a common text stays cheap)
MAX_CANDIDATES = 300
#: the newest cases read from one key's bucket at most
PER_KEY = 50
#: the queue's marker looks at the cases sharing most keys only (a page has many rows)
MARK_CANDIDATES = 20
MARK_PER_KEY = 20
#: the document frequencies are read from this many recent cases of the window, kept for
#: WEIGHTS_MINUTES (per process)
WEIGHTS_SAMPLE = 2000
WEIGHTS_MINUTES = 15
#: the IDF's smoothing: this many documents assumed without any given n-gram
PRIOR_DOCS = 100

KIND_BAND = "b"
KIND_ADDRESS = "a"

#: what every case says: taken out before comparing, it would make all cases alike
_BOILERPLATE_WORDS = """
        市民来电反映 市民来电称 市民来电 来电人反映 来电人称 来电人 来电反映 来电称 来电 市民反映 市民称
        市民 反映 投诉 举报 咨询 称 希望相关部门尽快处理 希望有关部门尽快处理 希望相关部门 希望有关部门
        要求相关部门 要求有关部门 请相关部门 请有关部门 相关部门 有关部门 尽快处理 尽快解决 核实处理
        予以处理 处理 解决 希望 要求 请求 问题 情况 严重影响 影响 目前 现在 一直 多次 已经
        """
BOILERPLATE = tuple(sorted(_BOILERPLATE_WORDS.split(), key=len, reverse=True))
_BOILERPLATE = re.compile("|".join(map(re.escape, BOILERPLATE)))
_NOT_WORD = re.compile(r"[^0-9a-z\u4e00-\u9fff]+")

#: what ends a place's name in a description (a road, an estate, a school...): two texts that
#: name places, none the same, are about different places
_PLACE = re.compile(
    r"(?<=[\u4e00-\u9fff]{2})(?:大道|小区|花园|公园|广场|市场|商场|中学|小学|幼儿园|医院|大厦|码头"
    r"|路|街|巷|弄|苑|村|站|桥)"
)
#: the score of two descriptions naming different places is multiplied by this
PLACE_FACTOR = 0.3

_PRIME = (1 << 61) - 1
_RNG = np.random.default_rng(20260519)
#: the hash functions (a * x + b) mod p, a below 2^33 and x below 2^30: no uint64 overflow
_A = _RNG.integers(1, 1 << 33, size=BANDS * ROWS, dtype=np.uint64)
_B = _RNG.integers(0, _PRIME, size=BANDS * ROWS, dtype=np.uint64)


class DupKey(Base):
    """One key a case may be found by: a MinHash band of its description, or its address."""

    __tablename__ = "insight_dup_keys"
    __table_args__ = (
        Index("ix_insight_dup_keys_key_created", "key", "created_at"),
        Index("ix_insight_dup_keys_case", "case_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    #: a signed 64-bit hash of (band number, its hashes), or of the address key
    key: Mapped[int] = mapped_column(BigInteger)
    case_id: Mapped[int] = mapped_column(BigId, ForeignKey("cases.id", ondelete="CASCADE"))
    #: b (band) or a (address)
    kind: Mapped[str] = mapped_column(String(1))
    #: the case's own created_at: the window is read from the index
    created_at: Mapped[datetime]


# -- text ----------------------------------------------------------------------------------


def normalise(text: str | None) -> str:
    """Full width to half, lower case, no punctuation, spaces or boilerplate."""
    value = unicodedata.normalize("NFKC", text or "").lower()
    value = _NOT_WORD.sub("", value)
    return _BOILERPLATE.sub("", value)


def address_key(address: str | None) -> str:
    """The address as compared: full/half width, case, spaces and punctuation ignored."""
    value = _NOT_WORD.sub("", unicodedata.normalize("NFKC", address or "").lower())
    return value if len(value) >= MIN_ADDRESS else ""


def places(text: str) -> frozenset[str]:
    """The places a normalised description names: each place word with the two characters
    before it (幸福路, 阳光小区, 城南中学)."""
    return frozenset(text[m.start() - 2 : m.end()] for m in _PLACE.finditer(text))


def place_factor(a: frozenset[str], b: frozenset[str]) -> float:
    """PLACE_FACTOR when both texts name places and share none, else 1."""
    return PLACE_FACTOR if a and b and not a & b else 1.0


def grams(text: str) -> Counter[str]:
    """The character 2- and 3-grams of a normalised text, counted."""
    out: Counter[str] = Counter()
    for n in (2, 3):
        out.update(text[i : i + n] for i in range(len(text) - n + 1))
    return out


class Weights:
    """Inverse document frequencies of n-grams (TF-IDF): an n-gram every case has (噪音扰民,
    垃圾清运) weighs little, a place's name much."""

    def __init__(self, texts: list[str] | None = None) -> None:
        self.df: Counter[str] = Counter()
        self.n = 0
        for one in texts or []:
            self.df.update(set(grams(normalise(one))))
            self.n += 1

    def vector(self, text: str) -> dict[str, float]:
        # PRIOR_DOCS documents without the n-gram are added: a small window (a new centre, a
        # test) weighs n-grams alike instead of zeroing the ones its few cases share
        n, df = self.n + PRIOR_DOCS, self.df
        return {
            k: v * math.log((n + 1) / (df.get(k, 0) + 1)) for k, v in grams(normalise(text)).items()
        }


_WEIGHTS: dict[tuple[str, int], Weights] = {}


def weights_for(session: Session, *, now: datetime, days: int = DEFAULT_DAYS) -> Weights:
    """The window's n-gram weights, from its WEIGHTS_SAMPLE most recent descriptions (kept
    per database for WEIGHTS_MINUTES)."""
    slot = int(now.timestamp() // (WEIGHTS_MINUTES * 60))
    key = (str(session.get_bind().url), slot)
    found = _WEIGHTS.get(key)
    if found is None:
        texts = session.scalars(
            select(Case.description)
            .where(Case.created_at >= now - timedelta(days=days))
            .order_by(Case.created_at.desc())
            .limit(WEIGHTS_SAMPLE)
        ).all()
        found = Weights(list(texts))
        _WEIGHTS.clear()
        _WEIGHTS[key] = found
    return found


def similarity(a: dict[str, float], b: dict[str, float]) -> float:
    """The cosine of two n-gram vectors (0 to 1)."""
    if not a or not b:
        return 0.0
    if len(a) > len(b):
        a, b = b, a
    dot = sum(v * b.get(k, 0) for k, v in a.items())
    if not dot:
        return 0.0
    norm = math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
    return dot / norm


def text_similarity(a: str, b: str, weights: Weights | None = None) -> float:
    """How alike two descriptions are, as the suggestions score them."""
    weights = weights or Weights()
    factor = place_factor(places(normalise(a)), places(normalise(b)))
    return similarity(weights.vector(a), weights.vector(b)) * factor


def _hash64(data: bytes) -> int:
    """A stable signed 64-bit hash (a BIGINT on every database)."""
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big", signed=True)


def band_keys(text: str | None) -> list[int]:
    """The LSH band keys of a description ([] when it is too short to compare)."""
    value = normalise(text)
    if len(value) < MIN_CHARS:
        return []
    shingles = set(grams(value))
    x = np.fromiter(
        (
            int.from_bytes(hashlib.blake2b(s.encode(), digest_size=7).digest(), "big")
            for s in shingles
        ),
        dtype=np.uint64,
        count=len(shingles),
    )
    x = x % np.uint64(1 << 30)
    signature = (_A[:, None] * x[None, :] + _B[:, None]) % np.uint64(_PRIME)
    mins = signature.min(axis=1).tolist()
    return [
        _hash64(f"b{band}:{mins[band * ROWS : (band + 1) * ROWS]}".encode())
        for band in range(BANDS)
    ]


def address_hash(key: str) -> int:
    return _hash64(f"a:{key}".encode())


# -- the index -----------------------------------------------------------------------------


def index_case(session: Session, case: Case) -> int:
    """Write the case's keys (in the caller's transaction); the number of rows written."""
    rows = [
        DupKey(key=k, case_id=case.id, kind=KIND_BAND, created_at=case.created_at)
        for k in dict.fromkeys(band_keys(case.description))
    ]
    key = address_key(case.address)
    if key:
        rows.append(
            DupKey(
                key=address_hash(key),
                case_id=case.id,
                kind=KIND_ADDRESS,
                created_at=case.created_at,
            )
        )
    session.add_all(rows)
    return len(rows)


def on_case_opened(session: Session, event) -> None:
    """Subscriber of ``CaseOpened``: index the new case in the intake's transaction. A case
    answered at once or not accepted is closed already: nothing to find it by."""
    case = session.get(Case, event.case_id)
    if case is not None and case.status in OPEN:
        index_case(session, case)


def prune(session: Session, *, now: datetime, days: int = DEFAULT_DAYS) -> int:
    """Delete the keys of cases older than the window (the query ignores them anyway)."""
    result = session.execute(delete(DupKey).where(DupKey.created_at < now - timedelta(days=days)))
    return result.rowcount or 0


def reindex(session: Session, *, now: datetime, days: int = DEFAULT_DAYS) -> int:
    """Index the open cases of the window that have no keys yet (cases recorded before the
    feature, or loaded in bulk); the number of cases indexed."""
    since = now - timedelta(days=days)
    have = select(DupKey.case_id).where(DupKey.created_at >= since)
    count = 0
    for case in session.scalars(
        select(Case).where(
            Case.created_at >= since, Case.status.in_(list(OPEN)), Case.id.not_in(have)
        )
    ):
        index_case(session, case)
        count += 1
    return count


# -- the search ----------------------------------------------------------------------------


@dataclass
class Draft:
    """What is compared: a draft at intake, or an existing case (``case_id`` left out)."""

    description: str = ""
    address: str = ""
    phone: str = ""
    confidential: bool = False
    case_id: int | None = None

    @classmethod
    def of(cls, case: Case) -> Draft:
        return cls(case.description, case.address, case.caller_phone, case.confidential, case.id)


@dataclass
class Suggestion:
    case: Case
    #: description, address, caller: the reasons, strongest first
    reasons: list[str] = field(default_factory=list)
    #: the descriptions' likeness (0 to 1)
    score: float = 0.0

    @property
    def rank(self) -> float:
        return (
            self.score
            + (0.5 if "address" in self.reasons else 0)
            + (0.3 if "caller" in self.reasons else 0)
        )


def _centre(session: Session, user: User) -> bool:
    department = session.get(Department, user.department_id) if user.department_id else None
    return is_centre(user, department)


@functools.lru_cache(maxsize=64)
def _buckets_sql(n: int):
    """``n`` keys' buckets, each its newest ``:per_key`` rows of the window, in one statement
    (written once per number of keys: SQLAlchemy took longer to build 25 subqueries than the
    database to run them)."""
    one = (
        "SELECT case_id, kind FROM (SELECT case_id, kind FROM insight_dup_keys "
        "WHERE key = :k{i} AND created_at >= :since ORDER BY created_at DESC LIMIT :per_key) b{i}"
    )
    union = " UNION ALL ".join(one.format(i=i) for i in range(n))
    return text(
        f"SELECT case_id, SUM(CASE WHEN kind = '{KIND_ADDRESS}' THEN {BANDS} ELSE 1 END) AS shared "
        f"FROM ({union}) keys GROUP BY case_id ORDER BY shared DESC, case_id DESC LIMIT :most"
    ).bindparams(bindparam("since", type_=DupKey.__table__.c.created_at.type))


def suggest(
    session: Session,
    *,
    draft: Draft,
    user: User,
    now: datetime,
    days: int = DEFAULT_DAYS,
    limit: int = LIMIT,
    threshold: float = THRESHOLD,
    weights: Weights | None = None,
    candidates: int = MAX_CANDIDATES,
    per_key: int = PER_KEY,
) -> list[Suggestion]:
    """The open cases of the last ``days`` the user may see that may be the draft's matter,
    most likely first, each with its reasons."""
    since = now - timedelta(days=days)
    bands = band_keys(draft.description)
    addr = address_key(draft.address)
    keys = bands + ([address_hash(addr)] if addr else [])
    found: dict[int, set[str]] = {}
    if keys:
        # each key's newest PER_KEY cases of the window (a band hundreds of cases share says
        # little, like a common word: its bucket is cut), then the cases sharing most keys
        # first (an address counts as all the bands)
        unique = list(dict.fromkeys(keys))
        rows = session.execute(
            _buckets_sql(len(unique)),
            {
                "since": since,
                "per_key": per_key,
                "most": candidates,
                **{f"k{i}": k for i, k in enumerate(unique)},
            },
        )
        # which keys matched is not kept: the description is scored, the address compared
        for case_id, _shared in rows:
            found[case_id] = set()
    centre = _centre(session, user)
    phone = canonical_phone(draft.phone)
    # a department never matches by the caller of a confidential case (theirs or the other)
    if phone and (centre or not draft.confidential):
        stmt = (
            select(Case.id)
            .where(Case.caller_phone == phone, Case.created_at >= since)
            .limit(candidates)
        )
        if not centre:
            stmt = stmt.where(Case.confidential.is_(False))
        for (case_id,) in session.execute(stmt):
            found.setdefault(case_id, set()).add("caller")
    found.pop(draft.case_id, None)
    if not found:
        return []
    cases = session.scalars(
        visible_cases(session, user).where(
            Case.id.in_(list(found)),
            Case.status.in_(list(OPEN)),
            Case.merged_into_id.is_(None),
            Case.created_at >= since,
        )
    ).all()
    weights = weights or weights_for(session, now=now, days=days)
    mine = weights.vector(draft.description)
    my_places = places(normalise(draft.description))
    out = []
    for case in cases:
        reasons = found[case.id]
        score = similarity(mine, weights.vector(case.description)) * place_factor(
            my_places, places(normalise(case.description))
        )
        hits = []
        if score >= threshold:
            hits.append("description")
        if addr and address_key(case.address) == addr:
            hits.append("address")
        if "caller" in reasons:
            hits.append("caller")
        if hits:
            out.append(Suggestion(case, hits, round(score, 3)))
    out.sort(key=lambda s: (-s.rank, -s.case.created_at.timestamp(), s.case.number))
    return out[:limit]


def marked(
    session: Session, *, cases: list[Case], user: User, now: datetime, days: int = DEFAULT_DAYS
) -> set[int]:
    """The ids of ``cases`` that have at least one suggestion (the queue's marker)."""
    return {
        case.id
        for case in cases
        if suggest(
            session,
            draft=Draft.of(case),
            user=user,
            now=now,
            days=days,
            limit=1,
            candidates=MARK_CANDIDATES,
            per_key=MARK_PER_KEY,
        )
    }


# -- merging -------------------------------------------------------------------------------


def record_and_merge(
    session: Session,
    hotline,
    *,
    data: dict,
    master_number: str,
    user: User,
    lang: str = "zh",
    record=None,
    then=None,
) -> tuple[Case, Case]:
    """Intake: record the call as a case and merge it into the open case ``master_number``,
    in one transaction (the call is on record; the caller's matter is followed on the
    master). ``record`` records the case (default ``flows.open_case``; the intake page links
    the call too); ``then(case, master)`` runs last in the same transaction (the intake page puts
    the call's files on the master, where the matter is followed). Nothing is written when any
    step is refused."""
    from engine.db import unit_of_work
    from engine.errors import NotFound

    from ..cases import flows
    from ..cases.enums import IntakeOutcome
    from ..cases.service import get_case
    from ..errors import DomainError, FormInvalid

    outcome = data.get("intake_outcome") or IntakeOutcome.DISPATCH
    if outcome != IntakeOutcome.DISPATCH:
        raise FormInvalid(
            {"intake_outcome": ["a call merged into an open case is recorded for dispatch"]}
        )
    with unit_of_work(session):
        try:
            master = get_case(session, number=master_number, user=user)
        except NotFound:
            raise DomainError(f"case {master_number} does not exist") from None
        if master.status not in OPEN or master.merged_into_id is not None:
            raise DomainError(f"case {master.number} is {master.status}: only open cases merge")
        if record is None:
            case = flows.open_case(session, hotline, data=data, actor=user.username, lang=lang)
        else:
            case = record()
        flows.merge_case(
            session,
            hotline,
            duplicate_number=case.number,
            master_number=master.number,
            user=user,
            reason="duplicate suggested at intake",
            recording=True,
        )
        if then is not None:
            then(case, master)
    return case, master


class PruneJob:
    """The worker's hourly deletion of the keys older than the window: ``tick()`` is cheap to
    call after every sweep; it works at most every ``every`` (an hour)."""

    def __init__(self, session_factory, *, clock, days: int = DEFAULT_DAYS, every: float = 3600):
        self.session_factory = session_factory
        self.clock = clock
        self.days = days
        self.every = timedelta(seconds=every)
        self._last: datetime | None = None

    def tick(self) -> int:
        from engine.db import unit_of_work

        now = self.clock.now()
        if self._last is not None and now - self._last < self.every:
            return 0
        self._last = now
        with self.session_factory() as session, unit_of_work(session):
            return prune(session, now=now, days=self.days)
