"""Score aggregation as pure functions on plain values (no database, no Flask).

What is here (issue 10, items 5 and 6):

* weighted technical totals per proposal, pass/fail against per-criterion and overall pass marks,
  and a ranking with a stated, deterministic tie-break (:func:`technical_results`);
* moderation statistics per proposal and criterion across panel members: mean, median, range,
  population standard deviation and outliers (:func:`moderation`);
* price scoring with a selectable formula and combined technical/price scores
  (:func:`price_scores`, :func:`combined_results`).

Numbers: weights, scores, marks and prices are ``Decimal`` (``int`` accepted; ``float`` refused).
Member scores, consensus scores, weights, maximum scores and pass marks may carry at most two
decimal places; they are held internally as integer hundredths so that every total, comparison,
pass mark and tie is decided **exactly** (rational arithmetic on a common denominator, vectorised
with NumPy), never by floating point. Totals and statistics are returned rounded to four decimal
places (``ROUND_HALF_UP``); the ranking uses the exact values.

The robustness analysis (agreement, leave-one-member-out, weight shifts) is in
:mod:`scoring.robustness` and builds on the private helpers at the end of this module.
"""
from __future__ import annotations

import enum
import math
import warnings
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from typing import Iterable, Mapping, Optional, Sequence

import numpy as np

HUNDRED = Decimal(100)
PLACES = Decimal("0.0001")
_INT64_SAFE = 2 ** 62


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CriterionSpec:
    """One criterion of one envelope.

    ``position`` is the criterion's place in the published list; it (not the order of the
    sequence passed in) decides among criteria of equal weight in the tie-break.
    """
    key: str
    weight: Decimal
    max_score: Decimal = Decimal(10)
    pass_mark: Optional[Decimal] = None
    position: int = 0
    envelope: str = "technical"
    name_en: str = ""
    name_zh: str = ""

    def name(self, lang: str = "en") -> str:
        if lang.startswith("zh"):
            return self.name_zh or self.name_en or self.key
        return self.name_en or self.key


@dataclass(frozen=True)
class ProposalSpec:
    key: str
    received_at: datetime


@dataclass(frozen=True)
class MemberScore:
    proposal: str
    criterion: str
    member: str
    score: Decimal


def _hundredths(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        raise ValueError(f"{what} must be a Decimal or an int, not {type(value).__name__} ({value!r})")
    d = Decimal(value)
    if not d.is_finite():
        raise ValueError(f"{what} must be a finite number, not {value}")
    q = d.scaleb(2)
    if q != q.to_integral_value():
        raise ValueError(f"{what} {value} has more than two decimal places")
    return int(q)


def validate_weights(criteria: Sequence[CriterionSpec]) -> None:
    """Raise ValueError unless the criteria are well formed and weights add up to 100 per envelope.

    Checked: at least one criterion, unique keys, weight > 0, maximum score > 0, pass mark on the
    scale (0..max), at most two decimal places, and within each envelope a weight total of exactly 100.
    """
    if not criteria:
        raise ValueError("there are no criteria")
    seen: set[str] = set()
    totals: dict[str, Decimal] = {}
    for c in criteria:
        if c.key in seen:
            raise ValueError(f"criterion {c.key!r} appears more than once")
        seen.add(c.key)
        weight = _hundredths(c.weight, f"weight of criterion {c.key!r}")
        maximum = _hundredths(c.max_score, f"maximum score of criterion {c.key!r}")
        if weight <= 0:
            raise ValueError(f"weight of criterion {c.key!r} must be more than 0, not {c.weight}")
        if maximum <= 0:
            raise ValueError(f"maximum score of criterion {c.key!r} must be more than 0, not {c.max_score}")
        if c.pass_mark is not None:
            mark = _hundredths(c.pass_mark, f"pass mark of criterion {c.key!r}")
            if not 0 <= mark <= maximum:
                raise ValueError(f"pass mark {c.pass_mark} of criterion {c.key!r} is not on its scale "
                                 f"0..{c.max_score}")
        totals[c.envelope] = totals.get(c.envelope, Decimal(0)) + Decimal(c.weight)
    for envelope, total in totals.items():
        if total != HUNDRED:
            raise ValueError(f"the weights of the {envelope} envelope add up to {total}, not 100")


# --------------------------------------------------------------------------------------------
# The score table: all member scores of one envelope as integer hundredths (P x C x M)
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class ScoreTable:
    """Member scores of one envelope, indexed [proposal, criterion, member], in hundredths.

    ``consensus`` holds a consensus score per (proposal, criterion) where ``has_consensus`` is set;
    a consensus replaces the members' mean for results (not for moderation statistics).
    Build it with :func:`build_table` (validated); treat the arrays as read-only.
    """
    criteria: tuple[CriterionSpec, ...]
    proposals: tuple[ProposalSpec, ...]
    members: tuple[str, ...]
    hundredths: np.ndarray      # int64 (P, C, M), 0 where absent
    present: np.ndarray         # bool (P, C, M)
    consensus: np.ndarray       # int64 (P, C)
    has_consensus: np.ndarray   # bool (P, C)

    @property
    def score_count(self) -> int:
        return int(self.present.sum())

    def member_mask(self, left_out: Optional[str] = None) -> np.ndarray:
        mask = np.ones(len(self.members), dtype=bool)
        if left_out is not None:
            mask[self.members.index(left_out)] = False
        return mask


def build_table(criteria: Sequence[CriterionSpec], proposals: Sequence[ProposalSpec],
                scores: Iterable[MemberScore], *,
                consensus: Optional[Mapping[tuple[str, str], Decimal]] = None,
                members: Optional[Sequence[str]] = None) -> ScoreTable:
    """Validate and index the scores of one envelope.

    Raises ValueError for: criteria that fail :func:`validate_weights` or come from more than one
    envelope, duplicate proposals, a score for an unknown proposal/criterion/member, two scores by
    one member for one cell, a score (or consensus) off the criterion's scale or with more than two
    decimal places.
    """
    criteria = tuple(criteria)
    proposals = tuple(proposals)
    validate_weights(criteria)
    if len({c.envelope for c in criteria}) != 1:
        raise ValueError("the criteria come from more than one envelope; score one envelope at a time")
    p_index = {p.key: i for i, p in enumerate(proposals)}
    if len(p_index) != len(proposals):
        raise ValueError("a proposal appears more than once")
    c_index = {c.key: i for i, c in enumerate(criteria)}
    scores = list(scores)
    if members is None:
        members = sorted({s.member for s in scores})
    members = tuple(members)
    m_index = {m: i for i, m in enumerate(members)}
    if len(m_index) != len(members):
        raise ValueError("a member appears more than once")

    try:
        pi = np.fromiter((p_index[s.proposal] for s in scores), dtype=np.int64, count=len(scores))
        ci = np.fromiter((c_index[s.criterion] for s in scores), dtype=np.int64, count=len(scores))
        mi = np.fromiter((m_index[s.member] for s in scores), dtype=np.int64, count=len(scores))
    except KeyError as exc:
        raise ValueError(f"a score names an unknown proposal, criterion or member: {exc}") from None
    wrong = {type(s.score) for s in scores} - {Decimal, int}
    if wrong:
        bad_type = next(s for s in scores if type(s.score) in wrong)
        raise ValueError(f"score {bad_type} must be a Decimal or an int, not {type(bad_type.score).__name__}")
    values = np.fromiter((float(s.score) for s in scores), dtype=np.float64, count=len(scores)) * 100.0
    rounded = np.rint(values)
    bad = np.flatnonzero(np.abs(values - rounded) > 1e-6)
    if bad.size:
        raise ValueError(f"score {scores[int(bad[0])]} has more than two decimal places")
    ints = rounded.astype(np.int64)
    maxima = np.array([_hundredths(c.max_score, "maximum score") for c in criteria], dtype=np.int64)
    off = np.flatnonzero((ints < 0) | (ints > maxima[ci]))
    if off.size:
        s = scores[int(off[0])]
        raise ValueError(f"score {s.score} of {s.member} for {s.proposal}/{s.criterion} is outside the "
                         f"scale 0..{criteria[c_index[s.criterion]].max_score}")
    shape = (len(proposals), len(criteria), len(members))
    counts = np.zeros(shape, dtype=np.int64)
    np.add.at(counts, (pi, ci, mi), 1)
    if (counts > 1).any():
        p, c, m = (int(x[0]) for x in np.nonzero(counts > 1))
        raise ValueError(f"{members[m]} has more than one score for {proposals[p].key}/{criteria[c].key}")
    hundredths = np.zeros(shape, dtype=np.int64)
    hundredths[pi, ci, mi] = ints
    present = counts == 1

    cons = np.zeros(shape[:2], dtype=np.int64)
    has_cons = np.zeros(shape[:2], dtype=bool)
    for (pk, ck), value in (consensus or {}).items():
        if pk not in p_index or ck not in c_index:
            raise ValueError(f"consensus for an unknown proposal or criterion: {pk}/{ck}")
        h = _hundredths(value, f"consensus score for {pk}/{ck}")
        if not 0 <= h <= maxima[c_index[ck]]:
            raise ValueError(f"consensus score {value} for {pk}/{ck} is outside the scale "
                             f"0..{criteria[c_index[ck]].max_score}")
        cons[p_index[pk], c_index[ck]] = h
        has_cons[p_index[pk], c_index[ck]] = True
    for arr in (hundredths, present, cons, has_cons):
        arr.setflags(write=False)
    return ScoreTable(criteria, proposals, members, hundredths, present, cons, has_cons)


def table_from_scores(criteria: Sequence[CriterionSpec], proposals: Sequence[ProposalSpec],
                      scores: Mapping[str, Mapping[str, Decimal]]) -> ScoreTable:
    """A table from one agreed score per proposal and criterion (``scores[proposal][criterion]``)."""
    return build_table(criteria, proposals,
                       [MemberScore(p, c, "panel", v) for p, row in scores.items() for c, v in row.items()],
                       members=("panel",))


# --------------------------------------------------------------------------------------------
# Results: weighted totals, pass marks, ranking
# --------------------------------------------------------------------------------------------

class TieRule(str, enum.Enum):
    criterion = "criterion"       # higher score on a criterion, taken in order of weight
    received_at = "received_at"   # received earlier
    key = "key"                   # last resort: proposal key order (only if received at the same instant)


@dataclass(frozen=True)
class TieBreak:
    """Why a proposal is ranked below the one just above it although their totals are equal."""
    rule: TieRule
    above: str                       # key of the proposal just above
    criterion: Optional[str] = None  # for TieRule.criterion

    def sentence(self) -> str:
        if self.rule is TieRule.criterion:
            return f"equal total with {self.above}, which scored higher on criterion {self.criterion}"
        if self.rule is TieRule.received_at:
            return f"equal total and scores with {self.above}, which was received earlier"
        return f"equal in every respect with {self.above}, which comes first by reference"


@dataclass(frozen=True)
class ProposalResult:
    proposal: str
    rank: int
    total: Decimal                         # weighted technical score, 0..100, 4 places
    scores: Mapping[str, Decimal]          # criterion -> score on its scale (consensus or mean), 4 places
    weighted: Mapping[str, Decimal]        # criterion -> weighted points, 4 places
    passed: bool
    failed_criteria: tuple[str, ...] = ()  # criteria below their pass mark
    below_overall_pass_mark: bool = False
    tie_break: Optional[TieBreak] = None


@dataclass(frozen=True, eq=False)
class _Prepared:
    """Exact per-cell figures: contribution of criterion c to proposal p is W_c * U[p, c] / D."""
    U: np.ndarray            # (P, C) int64 or object
    D: int
    complete: np.ndarray     # (P,) every criterion has a score
    criteria_pass: np.ndarray  # (P,) every criterion at or above its pass mark
    failed: np.ndarray       # (P, C) below pass mark
    T: np.ndarray            # (P, C) sum of hundredths
    n: np.ndarray            # (P, C) number of scores (1 for consensus)


def _weights(table: ScoreTable) -> np.ndarray:
    return np.array([_hundredths(c.weight, "weight") for c in table.criteria], dtype=np.int64)


def _prepare(table: ScoreTable, member_mask: Optional[np.ndarray] = None) -> _Prepared:
    present = table.present if member_mask is None else table.present & member_mask[None, None, :]
    T = np.where(present, table.hundredths, 0).sum(axis=2)
    n = present.sum(axis=2)
    T = np.where(table.has_consensus, table.consensus, T)
    n = np.where(table.has_consensus, 1, n)
    X = np.array([_hundredths(c.max_score, "maximum score") for c in table.criteria], dtype=np.int64)
    counts = [int(v) for v in np.unique(n) if v > 0] or [1]
    L_n = math.lcm(*counts)
    L_x = math.lcm(*(int(x) for x in X))
    D = 100 * L_n * L_x
    safe_n = np.where(n > 0, n, 1)
    if L_n * L_x * 10 ** 6 * 4 < _INT64_SAFE:  # 100 × total numerator stays in int64
        mult = (L_n * L_x) // (safe_n * X[None, :])
        U = T * mult
    else:  # exotic scales: exact Python integers
        mult = (L_n * L_x) // (safe_n.astype(object) * X[None, :].astype(object))
        U = T.astype(object) * mult
    complete = (n > 0).all(axis=1)
    marks = np.array([-1 if c.pass_mark is None else _hundredths(c.pass_mark, "pass mark")
                      for c in table.criteria], dtype=np.int64)
    failed = (n > 0) & (T < marks[None, :] * n)
    return _Prepared(U, D, complete, ~failed.any(axis=1), failed, T, n)


def _totals(prep: _Prepared, W) -> np.ndarray:
    if prep.U.dtype == object:
        return (prep.U * np.asarray(W, dtype=object)[None, :]).sum(axis=1)
    return prep.U @ np.asarray(W, dtype=np.int64)


def _overall_ok(N: np.ndarray, D: int, overall_pass_mark: Optional[Decimal]) -> np.ndarray:
    if overall_pass_mark is None:
        return np.ones(N.shape, dtype=bool)
    mark = _hundredths(overall_pass_mark, "overall pass mark")
    if not 0 <= mark <= 10000:
        raise ValueError(f"overall pass mark {overall_pass_mark} is not within 0..100")
    return 100 * N >= mark * D


def _tie_order(table: ScoreTable, W) -> list[int]:
    """Criteria in tie-break order: higher weight first, then published position, then key."""
    return sorted((c for c in range(len(table.criteria)) if W[c] > 0),
                  key=lambda c: (-int(W[c]), table.criteria[c].position, table.criteria[c].key))


def _rank_keys(table: ScoreTable, prep: _Prepared, N, eligible, W, rows: Iterable[int]):
    order = _tie_order(table, W)
    U = prep.U
    for p in rows:
        yield p, (0 if eligible[p] else 1, -int(N[p]), *(-int(U[p, c]) for c in order),
                  table.proposals[p].received_at, table.proposals[p].key)


def _first_place(table: ScoreTable, prep: _Prepared, W, overall_pass_mark) -> Optional[int]:
    """Index of the first-placed proposal (it must pass), or None if no proposal passes."""
    N = _totals(prep, W)
    eligible = prep.complete & prep.criteria_pass & _overall_ok(N, prep.D, overall_pass_mark)
    rows = np.flatnonzero(eligible)
    if rows.size == 0:
        return None
    best = max(int(N[p]) for p in rows)
    candidates = [int(p) for p in rows if int(N[p]) == best]
    if len(candidates) == 1:
        return candidates[0]
    return min(_rank_keys(table, prep, N, eligible, W, candidates), key=lambda pk: pk[1])[0]


_CTX = Context(prec=60, rounding=ROUND_HALF_UP)


def _dec(numerator: int, denominator: int) -> Decimal:
    """numerator / denominator rounded to 4 places (ROUND_HALF_UP), exact up to the rounding."""
    return _CTX.divide(Decimal(int(numerator)), Decimal(int(denominator))).quantize(PLACES, context=_CTX)


def technical_results(table: ScoreTable, *, overall_pass_mark: Optional[Decimal] = None
                      ) -> tuple[ProposalResult, ...]:
    """Weighted technical score, pass/fail and rank of every proposal, best first.

    Score of a proposal on a criterion: the consensus score where one is recorded, otherwise the
    mean of the members' scores. Weighted total = sum over criteria of score / max × weight
    (0..100, since weights add up to 100).

    A proposal **passes** when every criterion's score is at or above that criterion's pass mark
    (if it has one) and its total is at or above ``overall_pass_mark`` (if given).

    **Ranking** (a total order; exact values, not the rounded ones):
      1. proposals that pass before proposals that fail;
      2. higher weighted total;
      3. higher score on the highest-weighted criterion, then on the next highest-weighted, and so
         on (criteria of equal weight in published position order);
      4. earlier receipt time;
      5. proposal key (only reached if two proposals were received at the same instant).
    A proposal separated from the one just above it by rules 3-5 carries a :class:`TieBreak`
    naming the rule (and criterion) that decided it.

    Raises ValueError if a proposal has no score on some criterion.
    """
    prep = _prepare(table)
    if not prep.complete.all():
        p = int(np.flatnonzero(~prep.complete)[0])
        c = int(np.flatnonzero(prep.n[p] == 0)[0])
        raise ValueError(f"proposal {table.proposals[p].key} has no score on criterion {table.criteria[c].key}")
    W = _weights(table)
    N = _totals(prep, W)
    overall_ok = _overall_ok(N, prep.D, overall_pass_mark)
    eligible = prep.criteria_pass & overall_ok
    keyed = sorted(_rank_keys(table, prep, N, eligible, W, range(len(table.proposals))), key=lambda pk: pk[1])
    order = _tie_order(table, W)
    crit_keys = [c.key for c in table.criteria]
    C = range(len(crit_keys))
    T_l, n_l, U_l, W_l = prep.T.tolist(), prep.n.tolist(), prep.U.tolist(), [int(w) for w in W]
    failed_l = prep.failed.tolist()
    results = []
    previous = None
    for rank, (p, key) in enumerate(keyed, start=1):
        tie = None
        if previous is not None and previous[1][:2] == key[:2]:
            above = table.proposals[previous[0]].key
            diff = next(i for i in range(2, len(key)) if previous[1][i] != key[i])
            if diff < 2 + len(order):
                tie = TieBreak(TieRule.criterion, above, crit_keys[order[diff - 2]])
            elif diff == 2 + len(order):
                tie = TieBreak(TieRule.received_at, above)
            else:
                tie = TieBreak(TieRule.key, above)
        results.append(ProposalResult(
            proposal=table.proposals[p].key,
            rank=rank,
            total=_dec(N[p], prep.D),
            scores={crit_keys[c]: _dec(T_l[p][c], 100 * n_l[p][c]) for c in C},
            weighted={crit_keys[c]: _dec(W_l[c] * U_l[p][c], prep.D) for c in C},
            passed=bool(eligible[p]),
            failed_criteria=tuple(crit_keys[c] for c in C if failed_l[p][c]),
            below_overall_pass_mark=not bool(overall_ok[p]),
            tie_break=tie,
        ))
        previous = (p, key)
    return tuple(results)


# --------------------------------------------------------------------------------------------
# Moderation statistics
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class ModerationArrays:
    """Vectorised moderation statistics, in score units (floats; NaN where fewer than one score).

    ``outlier[p, c, m]`` is True where member m's score differs from the median of the *other*
    members' scores on that cell by more than the threshold.
    """
    count: np.ndarray
    mean: np.ndarray
    median: np.ndarray
    range: np.ndarray
    std: np.ndarray
    outlier: np.ndarray


@dataclass(frozen=True)
class CellStats:
    proposal: str
    criterion: str
    count: int
    mean: Optional[Decimal]
    median: Optional[Decimal]
    range: Optional[Decimal]        # max - min
    std: Optional[Decimal]          # population standard deviation (the panel is the population)
    outliers: tuple[str, ...] = field(default=())


def moderation_arrays(table: ScoreTable, threshold: Decimal) -> ModerationArrays:
    """Per (proposal, criterion) over members: count, mean, median, range, std and outliers.

    Consensus scores are ignored here: these are the members' own scores. A member is an outlier on
    a cell when |its score - median of the other members' scores| > ``threshold`` points; a cell
    scored by one member has no outliers. Scores are integer hundredths, so medians and differences
    are exact in float64; a tolerance of 1e-6 hundredths guards the comparison anyway.
    """
    limit = _hundredths(threshold, "outlier threshold")
    if limit < 0:
        raise ValueError(f"outlier threshold must not be negative, not {threshold}")
    present = table.present
    x = np.where(present, table.hundredths.astype(np.float64), np.nan)
    count = present.sum(axis=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(x, axis=2) / 100
        median = np.nanmedian(x, axis=2) / 100
        rng = (np.nanmax(x, axis=2) - np.nanmin(x, axis=2)) / 100
        std = np.nanstd(x, axis=2) / 100
        outlier = np.zeros(x.shape, dtype=bool)
        for m in range(x.shape[2]):
            others = x.copy()
            others[:, :, m] = np.nan
            med = np.nanmedian(others, axis=2)
            with np.errstate(invalid="ignore"):
                outlier[:, :, m] = present[:, :, m] & (np.abs(x[:, :, m] - med) > limit + 1e-6)
    return ModerationArrays(count, mean, median, rng, std, outlier)


def moderation(table: ScoreTable, threshold: Decimal) -> tuple[CellStats, ...]:
    """:func:`moderation_arrays` as one :class:`CellStats` per proposal and criterion.

    Mean, median and range are exact (from integer hundredths), std rounded; all given to 4 places
    (mean rounded half up).
    Order: proposals as given, criteria as given within each.
    """
    arr = moderation_arrays(table, threshold)
    T = np.where(table.present, table.hundredths, 0).sum(axis=2)
    k = arr.count
    safe_k = np.maximum(k, 1)
    # every figure in ten-thousandths as an integer: mean exactly, ROUND_HALF_UP (T/(100k) × 10^4 = 100T/k)
    mean4 = (200 * T + safe_k) // (2 * safe_k)
    median4 = np.rint(np.nan_to_num(arr.median) * 10000).astype(np.int64)   # halves of hundredths: exact
    range4 = np.rint(np.nan_to_num(arr.range) * 10000).astype(np.int64)
    std4 = np.floor(np.nan_to_num(arr.std) * 10000 + 0.5).astype(np.int64)
    members = table.members
    flagged: dict[tuple[int, int], list[str]] = {}
    for p, c, m in np.argwhere(arr.outlier).tolist():
        flagged.setdefault((p, c), []).append(members[m])
    decimals: dict[int, Decimal] = {}

    def dec4(i: int) -> Decimal:
        d = decimals.get(i)
        if d is None:
            d = decimals[i] = Decimal(i).scaleb(-4)
        return d

    counts, mean4, median4, range4, std4 = (a.tolist() for a in (k, mean4, median4, range4, std4))
    out = []
    for p, prop in enumerate(table.proposals):
        for c, crit in enumerate(table.criteria):
            n = counts[p][c]
            if n == 0:
                out.append(CellStats(prop.key, crit.key, 0, None, None, None, None))
                continue
            out.append(CellStats(prop.key, crit.key, n, dec4(mean4[p][c]), dec4(median4[p][c]),
                                 dec4(range4[p][c]), dec4(std4[p][c]), tuple(flagged.get((p, c), ()))))
    return tuple(out)


# --------------------------------------------------------------------------------------------
# Price scoring and combined scores
# --------------------------------------------------------------------------------------------

class PriceFormula(str, enum.Enum):
    """How a compliant price is turned into price points (``max`` = full marks)."""
    lowest_pro_rata = "lowest_pro_rata"            # max × lowest / price
    linear = "linear"                              # max × (highest − price) / (highest − lowest)
    proportional_difference = "proportional_difference"  # max × (1 − (price − lowest) / lowest), floored at 0


def price_scores(prices: Mapping[str, Decimal], formula: PriceFormula | str,
                 max_points: Decimal = HUNDRED) -> dict[str, Decimal]:
    """Price points per proposal (4 places, ROUND_HALF_UP); the lowest price always scores ``max_points``.

    Pass only technically compliant proposals' prices. Prices must be Decimal (or int) and > 0.
    With the linear formula the highest price scores 0; if all prices are equal all score full marks.
    """
    formula = PriceFormula(formula)
    if not prices:
        return {}
    for key, price in prices.items():
        if isinstance(price, bool) or not isinstance(price, (Decimal, int)) or not Decimal(price).is_finite():
            raise ValueError(f"price of {key} must be a Decimal, not {price!r}")
        if price <= 0:
            raise ValueError(f"price of {key} must be more than 0, not {price}")
    if not isinstance(max_points, (Decimal, int)) or max_points <= 0:
        raise ValueError(f"full marks for price must be more than 0, not {max_points}")
    lowest = min(Decimal(v) for v in prices.values())
    highest = max(Decimal(v) for v in prices.values())
    maxp = Decimal(max_points)
    out = {}
    with localcontext() as ctx:
        ctx.prec = 60
        for key, price in prices.items():
            price = Decimal(price)
            if formula is PriceFormula.lowest_pro_rata:
                points = maxp * lowest / price
            elif formula is PriceFormula.linear:
                points = maxp if highest == lowest else maxp * (highest - price) / (highest - lowest)
            else:
                points = max(Decimal(0), maxp * (1 - (price - lowest) / lowest))
            out[key] = points.quantize(PLACES, rounding=ROUND_HALF_UP)
    return out


@dataclass(frozen=True)
class CombinedResult:
    proposal: str
    rank: Optional[int]                  # None for proposals that did not pass technically
    technical: Decimal
    passed: bool
    price: Optional[Decimal] = None
    price_points: Optional[Decimal] = None
    combined: Optional[Decimal] = None


def combined_results(technical: Sequence[ProposalResult], prices: Mapping[str, Decimal],
                     formula: PriceFormula | str, *, technical_share: Decimal = Decimal(70),
                     price_share: Decimal = Decimal(30)) -> tuple[CombinedResult, ...]:
    """Combined score = technical total × technical% / 100 + price points × price% / 100.

    Only proposals that passed technically are price-scored and ranked (the price points use
    :func:`price_scores` with full marks 100 among them); the others follow, unranked, in technical
    order. Shares must add up to 100. Every passing proposal needs a price.

    Ranking of combined scores: higher combined score (computed exactly from the technical totals and
    price points as returned, i.e. rounded to 4 places), then higher technical total, then lower price,
    then the technical ranking (which ends in receipt time).
    """
    for name, share in (("technical", technical_share), ("price", price_share)):
        if isinstance(share, bool) or not isinstance(share, (Decimal, int)) or share < 0:
            raise ValueError(f"the {name} share must be a Decimal of at least 0, not {share!r}")
    if Decimal(technical_share) + Decimal(price_share) != HUNDRED:
        raise ValueError(f"the technical and price shares add up to "
                         f"{Decimal(technical_share) + Decimal(price_share)}, not 100")
    passed = [r for r in technical if r.passed]
    missing = [r.proposal for r in passed if r.proposal not in prices]
    if missing:
        raise ValueError(f"no price for technically compliant proposal(s): {', '.join(missing)}")
    points = price_scores({r.proposal: prices[r.proposal] for r in passed}, formula)
    ranked = []
    with localcontext() as ctx:
        ctx.prec = 60
        for r in passed:
            combined = (r.total * Decimal(technical_share) + points[r.proposal] * Decimal(price_share)) / HUNDRED
            ranked.append((r, combined))
    ranked.sort(key=lambda rc: (-rc[1], -rc[0].total, Decimal(prices[rc[0].proposal]), rc[0].rank))
    out = [CombinedResult(r.proposal, i, r.total, True, Decimal(prices[r.proposal]), points[r.proposal],
                          combined.quantize(PLACES, rounding=ROUND_HALF_UP))
           for i, (r, combined) in enumerate(ranked, start=1)]
    out += [CombinedResult(r.proposal, None, r.total, False,
                           Decimal(prices[r.proposal]) if r.proposal in prices else None)
            for r in technical if not r.passed]
    return tuple(out)
