"""A result that can be defended (issue 10, item 7): pure functions on a :class:`ScoreTable`.

(a) :func:`panel_agreement`: the panel's agreement per criterion, Krippendorff's alpha at the
    interval level (PyPI ``krippendorff``), or None with a reason where it is undefined.
(b) :func:`leave_one_member_out`: the first place recomputed without each member's scores.
(c) :func:`smallest_weight_shift`: the smallest move of weight from one criterion to another
    (the envelope stays at 100) that changes the first place.
:func:`robustness` runs all three; :func:`robustness_sentences` says the findings in English or
Traditional Chinese.

"First place" is the rank-1 proposal of :func:`scoring.aggregation.technical_results`, provided it
passes; with no passing proposal there is no first place (None). Consensus scores, where recorded,
are held fixed when a member is left out (a consensus is the panel's, not one member's).

The sentences are plain strings in this module, not gettext messages: marking them ``_l()`` would
need the catalogue (messages.po) updated, which this module does not touch. When the moderation
page and report use them, move the two templates below into ``_l()`` strings.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal
from typing import Mapping, Optional

import krippendorff
import numpy as np

from scoring.aggregation import (ScoreTable, _first_place, _hundredths, _overall_ok, _prepare, _totals,
                                 _weights)


# --------------------------------------------------------------------------------------------
# (a) Agreement
# --------------------------------------------------------------------------------------------

class AlphaUndefined(str, enum.Enum):
    one_member = "one_member"            # fewer than two members scored this criterion
    no_shared_proposal = "no_shared_proposal"  # no proposal was scored by two members or more
    no_variance = "no_variance"          # every score on the criterion is the same value


ALPHA_REASONS = {
    "en": {
        AlphaUndefined.one_member: "fewer than two members scored it",
        AlphaUndefined.no_shared_proposal: "no proposal was scored by two members",
        AlphaUndefined.no_variance: "every score is the same, so agreement cannot be measured",
    },
    "zh_Hant": {
        AlphaUndefined.one_member: "評分的成員少於兩名",
        AlphaUndefined.no_shared_proposal: "沒有任何建議書由兩名成員評分",
        AlphaUndefined.no_variance: "所有分數相同，無法衡量一致程度",
    },
}


@dataclass(frozen=True)
class Agreement:
    criterion: str
    alpha: Optional[float]                 # None when undefined
    reason: Optional[AlphaUndefined] = None
    members: int = 0                       # members with at least one score on the criterion
    units: int = 0                         # proposals scored by two members or more


def panel_agreement(table: ScoreTable) -> tuple[Agreement, ...]:
    """Krippendorff's alpha (interval) per criterion: units are proposals, coders are members.

    Uses members' own scores (not consensus). Undefined (alpha None, with a reason) when fewer than
    two members scored the criterion, when no proposal has two scores, or when all pairable scores
    are equal (no variance: alpha's expected disagreement is zero).
    """
    out = []
    for c, crit in enumerate(table.criteria):
        present = table.present[:, c, :]                     # (P, M)
        members = int(present.any(axis=0).sum())
        pairable = present.sum(axis=1) >= 2                  # (P,)
        units = int(pairable.sum())
        if members < 2:
            out.append(Agreement(crit.key, None, AlphaUndefined.one_member, members, units))
            continue
        if units == 0:
            out.append(Agreement(crit.key, None, AlphaUndefined.no_shared_proposal, members, units))
            continue
        values = table.hundredths[:, c, :][pairable][present[pairable]]
        if np.unique(values).size < 2:
            out.append(Agreement(crit.key, None, AlphaUndefined.no_variance, members, units))
            continue
        data = np.where(present, table.hundredths[:, c, :] / 100.0, np.nan).T   # (M, P) coders x units
        alpha = float(krippendorff.alpha(reliability_data=data, level_of_measurement="interval"))
        if np.isnan(alpha):
            out.append(Agreement(crit.key, None, AlphaUndefined.no_variance, members, units))
        else:
            out.append(Agreement(crit.key, alpha, None, members, units))
    return tuple(out)


# --------------------------------------------------------------------------------------------
# (b) Leave one member out
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class WithoutMember:
    member: str
    first: Optional[str]        # first place without this member's scores
    changes_first: bool
    unscored: tuple[str, ...] = ()   # proposals left without a score on some criterion (not ranked)


def first_place(table: ScoreTable, *, overall_pass_mark: Optional[Decimal] = None) -> Optional[str]:
    p = _first_place(table, _prepare(table), _weights(table), overall_pass_mark)
    return None if p is None else table.proposals[p].key


def leave_one_member_out(table: ScoreTable, *, overall_pass_mark: Optional[Decimal] = None
                         ) -> tuple[WithoutMember, ...]:
    """Recompute the first place with each member's scores left out in turn.

    A proposal that, without the member, has no score left on some criterion cannot be ranked in
    that recomputation; it is listed in ``unscored`` (and so cannot be first). With fewer than two
    members there is nothing to compare: the result is empty.
    """
    if len(table.members) < 2:
        return ()
    W = _weights(table)
    base = first_place(table, overall_pass_mark=overall_pass_mark)
    out = []
    for member in table.members:
        prep = _prepare(table, table.member_mask(left_out=member))
        p = _first_place(table, prep, W, overall_pass_mark)
        first = None if p is None else table.proposals[p].key
        unscored = tuple(table.proposals[i].key for i in np.flatnonzero(~prep.complete))
        out.append(WithoutMember(member, first, first != base, unscored))
    return tuple(out)


# --------------------------------------------------------------------------------------------
# (c) Smallest weight shift
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class WeightShift:
    from_criterion: str
    to_criterion: str
    points: Decimal
    new_first: Optional[str]    # first place after the shift (None: no proposal would pass)

    def as_tuple(self) -> tuple[str, str, Decimal]:
        return (self.from_criterion, self.to_criterion, self.points)


def smallest_weight_shift(table: ScoreTable, *, overall_pass_mark: Optional[Decimal] = None,
                          step: Decimal = Decimal("0.5")) -> Optional[WeightShift]:
    """The smallest move of weight from one criterion to another that changes the first place.

    Shifts of ``step``, 2×``step``, ... up to the whole weight of the criterion it is taken from
    (the whole weight itself is always tried) are tried for every ordered pair of criteria; the
    ranking rules (pass marks, overall pass mark on the new totals, tie-break by the new weight
    order) are those of :func:`technical_results`, computed exactly; every criterion's pass mark
    still applies, also that of a criterion whose whole weight is moved away. Among equally small shifts the
    first pair in published criterion order (from, then to) is returned. None if there is no first
    place, only one criterion, or no single shift changes the first place.
    """
    step_h = _hundredths(step, "weight step")
    if step_h <= 0:
        raise ValueError(f"weight step must be more than 0, not {step}")
    prep = _prepare(table)
    W = _weights(table)
    winner = _first_place(table, prep, W, overall_pass_mark)
    if winner is None or len(W) < 2:
        return None
    N = _totals(prep, W)
    base_ok = prep.complete & prep.criteria_pass
    order = sorted(range(len(W)), key=lambda c: (table.criteria[c].position, table.criteria[c].key))
    others_mask = np.ones(len(table.proposals), dtype=bool)
    others_mask[winner] = False
    best: Optional[tuple[int, int, int, Optional[int]]] = None   # (delta, a, b, new first)
    obj = prep.U.dtype == object
    for a in order:
        wa = int(W[a])
        steps = list(range(step_h, wa + 1, step_h))
        if not steps or steps[-1] != wa:
            steps.append(wa)
        if best is not None:
            steps = [d for d in steps if d < best[0]]
        if not steps:
            continue
        deltas = np.array(steps, dtype=object if obj else np.int64)
        for b in order:
            if b == a:
                continue
            d = prep.U[:, b] - prep.U[:, a]
            Nk = N[None, :] + deltas[:, None] * d[None, :]                  # (K, P)
            elig = base_ok[None, :] & _overall_ok(Nk, prep.D, overall_pass_mark)
            nw = Nk[:, winner]
            w_ok = elig[:, winner]
            cand = elig & others_mask[None, :]
            if obj:
                masked = np.where(cand, Nk, None)
                mo = np.array([max((v for v in row if v is not None), default=None) for row in masked], dtype=object)
                has = np.array([v is not None for v in mo])
                gt = np.array([h and v > w for h, v, w in zip(has, mo, nw)], dtype=bool)
                eq = np.array([h and v == w for h, v, w in zip(has, mo, nw)], dtype=bool)
            else:
                sentinel = np.iinfo(np.int64).min
                mo = np.where(cand, Nk, sentinel).max(axis=1)
                has = cand.any(axis=1)
                gt = has & (mo > nw)
                eq = has & (mo == nw)
            for k in np.flatnonzero(~w_ok | gt | (w_ok & eq)):
                delta = int(deltas[k])
                if best is not None and delta >= best[0]:
                    break
                W2 = W.copy()
                W2[a] -= delta
                W2[b] += delta
                first = _first_place(table, prep, W2, overall_pass_mark)
                if first != winner:
                    best = (delta, a, b, first)
                    break
    if best is None:
        return None
    delta, a, b, first = best
    return WeightShift(table.criteria[a].key, table.criteria[b].key, Decimal(delta) / 100,
                       None if first is None else table.proposals[first].key)


# --------------------------------------------------------------------------------------------
# All three, and the sentences
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RobustnessReport:
    first: Optional[str]
    agreement: tuple[Agreement, ...]
    without_member: tuple[WithoutMember, ...]
    weight_shift: Optional[WeightShift]
    step: Decimal
    criteria: tuple = ()        # the CriterionSpecs, for names in sentences

    @property
    def members_changing_first(self) -> tuple[str, ...]:
        return tuple(w.member for w in self.without_member if w.changes_first)


def robustness(table: ScoreTable, *, overall_pass_mark: Optional[Decimal] = None,
               step: Decimal = Decimal("0.5")) -> RobustnessReport:
    return RobustnessReport(
        first=first_place(table, overall_pass_mark=overall_pass_mark),
        agreement=panel_agreement(table),
        without_member=leave_one_member_out(table, overall_pass_mark=overall_pass_mark),
        weight_shift=smallest_weight_shift(table, overall_pass_mark=overall_pass_mark, step=step),
        step=step,
        criteria=table.criteria,
    )


def _points(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


#: Krippendorff (2004): alpha >= 0.800 for reliable conclusions, 0.667 <= alpha < 0.800 for tentative ones only.
LOW_ALPHA = 0.667


def robustness_sentences(report: RobustnessReport, lang: str = "en", *,
                         criterion_names: Optional[Mapping[str, str]] = None,
                         member_names: Optional[Mapping[str, str]] = None,
                         proposal_names: Optional[Mapping[str, str]] = None) -> list[str]:
    """The three findings as sentences in English (``lang="en"``) or Traditional Chinese (``"zh_Hant"``).

    Criterion names default to the criteria's own names in that language, other names to the keys.
    Returns [agreement sentence, first-place sentence].
    """
    zh = lang.startswith("zh")
    names = {c.key: c.name("zh_Hant" if zh else "en") for c in report.criteria}
    names.update(criterion_names or {})
    cname = names.get
    mname = (member_names or {}).get
    pname = (proposal_names or {}).get
    reasons = ALPHA_REASONS["zh_Hant" if zh else "en"]

    parts = []
    for a in report.agreement:
        name = cname(a.criterion, a.criterion)
        if a.alpha is None:
            parts.append(f"{name}：未能計算（{reasons[a.reason]}）" if zh
                         else f"{name}: not defined ({reasons[a.reason]})")
        else:
            parts.append(f"{name} {a.alpha:.2f}")
    if zh:
        agreement = "評審小組的一致程度（Krippendorff's alpha，等距尺度）：" + "；".join(parts) + "。"
    else:
        agreement = "Panel agreement (Krippendorff's alpha, interval): " + "; ".join(parts) + "."
    # Krippendorff's own reading: below 0.667 the scores do not support even tentative conclusions
    low = [cname(a.criterion, a.criterion) for a in report.agreement if a.alpha is not None and a.alpha < LOW_ALPHA]
    if low:
        agreement += (f"「{'」、「'.join(low)}」的一致程度偏低（低於 0.667）：依賴此排名前，評審小組應先討論這些評分。" if zh
                      else f" Agreement is low (below 0.667) on {', '.join(low)}: the panel should discuss these "
                           f"scores before the ranking is relied on.")

    if report.first is None:
        return [agreement, "沒有建議書達到及格分數，因此沒有排名第一的建議書。" if zh
                else "No proposal reaches the pass marks, so there is no first place."]
    changers = [w for w in report.without_member if w.changes_first]
    if not report.without_member:
        loo = ("評審小組少於兩名成員，無法測試剔除一名成員的影響" if zh
               else "With fewer than two members, leaving one out cannot be tested")
    elif not changers:
        loo = ("即使剔除任何一名成員的評分，獲推薦的建議書仍排名第一" if zh
               else "The recommended proposal stays first without any one member")
    else:
        if zh:
            loo = "獲推薦的建議書在剔除以下成員的評分後不再排名第一：" + "、".join(
                f"{mname(w.member, w.member)}（改為{pname(w.first, w.first) if w.first else '沒有建議書及格'}）"
                for w in changers)
        else:
            loo = "The recommended proposal would not be first without the scores of " + ", ".join(
                f"{mname(w.member, w.member)} ("
                + (f"{pname(w.first, w.first)} would be first" if w.first else "no proposal would pass") + ")"
                for w in changers)
    shift = report.weight_shift
    if shift is None:
        tail = ("；將任何一項準則的比重（最多至其全部比重）轉移至另一項準則，都不會改變此結果。" if zh
                else "; no shift of weight from one criterion to another, up to its whole weight, would change it.")
    else:
        frm, to, pts = cname(shift.from_criterion, shift.from_criterion), cname(shift.to_criterion,
                                                                                shift.to_criterion), _points(shift.points)
        tail = (f"；把 {pts} 分比重由「{frm}」轉移至「{to}」便會改變此結果。" if zh
                else f"; a shift of {pts} points of weight from {frm} to {to} would change it.")
    return [agreement, loo + tail]
