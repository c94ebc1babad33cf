"""Pure aggregation and robustness: hand-worked examples and Hypothesis properties (no database)."""
from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from datetime import datetime, timedelta, timezone
from decimal import Decimal as D

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring.aggregation import (CriterionSpec, MemberScore, PriceFormula, ProposalSpec, TieBreak, TieRule,
                                 build_table, combined_results, moderation, moderation_arrays, price_scores,
                                 table_from_scores, technical_results, validate_weights)
from scoring.robustness import (AlphaUndefined, WeightShift, first_place, leave_one_member_out, panel_agreement,
                                robustness, robustness_sentences, smallest_weight_shift)

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)


def crit(key, weight, max_score=10, pass_mark=None, position=0, **names):
    return CriterionSpec(key, D(weight), D(max_score), None if pass_mark is None else D(pass_mark), position,
                         **names)


def props(*keys, minutes=None):
    return [ProposalSpec(k, T0 + timedelta(minutes=(minutes or {}).get(k, i))) for i, k in enumerate(keys)]


def by_key(results):
    return {r.proposal: r for r in results}


# ------------------------------------------------------------------------------------------------
# Validation
# ------------------------------------------------------------------------------------------------

def test_weights_must_add_up_to_100_per_envelope():
    validate_weights([crit("a", "60.5"), crit("b", "39.5")])
    validate_weights([crit("a", 70), crit("b", 30), replace(crit("p", 100), envelope="price")])
    with pytest.raises(ValueError, match="technical envelope add up to 99, not 100"):
        validate_weights([crit("a", 60), crit("b", 39)])
    with pytest.raises(ValueError, match="price envelope add up to 50"):
        validate_weights([crit("a", 100), replace(crit("p", 50), envelope="price")])
    with pytest.raises(ValueError, match="more than once"):
        validate_weights([crit("a", 50), crit("a", 50)])
    with pytest.raises(ValueError, match="more than 0"):
        validate_weights([crit("a", 100), crit("b", 0)])
    with pytest.raises(ValueError, match="not on its scale"):
        validate_weights([crit("a", 100, max_score=10, pass_mark=11)])
    with pytest.raises(ValueError, match="more than two decimal places"):
        validate_weights([crit("a", "50.005"), crit("b", "49.995")])


def test_scores_are_checked_against_the_scale_and_type():
    criteria, proposals = [crit("a", 100, max_score=5)], props("P")
    build_table(criteria, proposals, [MemberScore("P", "a", "m", D("4.5"))])  # positive control
    for bad, message in [(D(6), "outside the scale 0..5"), (D(-1), "outside the scale"),
                         (D("2.125"), "more than two decimal places"), (2.5, "must be a Decimal")]:
        with pytest.raises(ValueError, match=message):
            build_table(criteria, proposals, [MemberScore("P", "a", "m", bad)])
    with pytest.raises(ValueError, match="more than one score"):
        build_table(criteria, proposals, [MemberScore("P", "a", "m", D(1)), MemberScore("P", "a", "m", D(2))])
    with pytest.raises(ValueError, match="unknown"):
        build_table(criteria, proposals, [MemberScore("Q", "a", "m", D(1))])
    with pytest.raises(ValueError, match="no score on criterion b"):
        technical_results(table_from_scores([crit("a", 50), crit("b", 50)], proposals, {"P": {"a": D(1)}}))


# ------------------------------------------------------------------------------------------------
# Weighted totals, ties and the tie-break
# ------------------------------------------------------------------------------------------------

def test_weighted_total_is_score_over_max_times_weight():
    # 7/10 × 60 + 3/5 × 40 = 42 + 24 = 66; the mean of the members is used: (6 + 8) / 2 = 7
    criteria = [crit("a", 60), crit("b", 40, max_score=5)]
    table = build_table(criteria, props("P"), [MemberScore("P", "a", "m1", D(6)), MemberScore("P", "a", "m2", D(8)),
                                               MemberScore("P", "b", "m1", D(3)), MemberScore("P", "b", "m2", D(3))])
    (r,) = technical_results(table)
    assert r.total == D("66.0000") and r.rank == 1 and r.passed
    assert r.scores == {"a": D("7.0000"), "b": D("3.0000")}
    assert r.weighted == {"a": D("42.0000"), "b": D("24.0000")}


def test_consensus_replaces_the_mean():
    criteria = [crit("a", 100)]
    scores = [MemberScore("P", "a", "m1", D(6)), MemberScore("P", "a", "m2", D(8))]
    assert technical_results(build_table(criteria, props("P"), scores))[0].total == D(70)
    table = build_table(criteria, props("P"), scores, consensus={("P", "a"): D("7.5")})
    assert technical_results(table)[0].total == D(75)


def test_ties_are_broken_by_heaviest_criterion_then_receipt_time_then_key():
    criteria = [crit("a", 50, position=1), crit("b", 30, position=2), crit("c", 20, position=3)]
    # P1: 6/10×50 + 8/10×30 + 6/10×20 = 30 + 24 + 12 = 66
    # P2: 8/10×50 + 4/10×30 + 7/10×20 = 40 + 12 + 14 = 66  -> higher on a (the heaviest): above P1 and P3
    # P3: same scores as P1, received earlier than P1      -> above P1 by receipt time
    # P4, P5: same scores and same receipt time: key order
    scores = {"P1": {"a": D(6), "b": D(8), "c": D(6)}, "P2": {"a": D(8), "b": D(4), "c": D(7)},
              "P3": {"a": D(6), "b": D(8), "c": D(6)},
              "P4": {"a": D(1), "b": D(1), "c": D(1)}, "P5": {"a": D(1), "b": D(1), "c": D(1)}}
    proposals = props("P1", "P2", "P3", "P4", "P5", minutes={"P1": 30, "P2": 40, "P3": 10, "P4": 5, "P5": 5})
    results = technical_results(table_from_scores(criteria, proposals, scores))
    assert [r.proposal for r in results] == ["P2", "P3", "P1", "P4", "P5"]
    assert [r.total for r in results[:3]] == [D(66)] * 3
    assert results[0].tie_break is None
    assert results[1].tie_break == TieBreak(TieRule.criterion, "P2", "a")
    assert results[2].tie_break == TieBreak(TieRule.received_at, "P3")
    assert results[3].tie_break is None  # lower total, no tie
    assert results[4].tie_break == TieBreak(TieRule.key, "P4")
    assert "scored higher on criterion a" in results[1].tie_break.sentence()


def test_equal_weights_are_taken_in_published_position_order_not_list_order():
    # both 50/50; P1 is higher on b, P2 on a; b is published first, so P1 wins the tie
    criteria = [crit("a", 50, position=2), crit("b", 50, position=1)]
    scores = {"P1": {"a": D(4), "b": D(6)}, "P2": {"a": D(6), "b": D(4)}}
    results = technical_results(table_from_scores(criteria, props("P2", "P1"), scores))
    assert [r.proposal for r in results] == ["P1", "P2"]
    assert results[1].tie_break == TieBreak(TieRule.criterion, "P1", "b")


def test_pass_mark_failures_on_one_criterion_and_overall():
    criteria = [crit("a", 60, pass_mark=5), crit("b", 40, pass_mark=4)]
    scores = {"HIGH_BUT_WEAK_B": {"a": D(10), "b": D("3.5")},   # 60 + 14 = 74, fails b
              "PASSES": {"a": D(6), "b": D(5)},                   # 36 + 20 = 56
              "LOW_OVERALL": {"a": D(5), "b": D(4)},              # 30 + 16 = 46 < 50
              "EXACTLY_AT_MARKS": {"a": D(5), "b": D(10)}}        # 30 + 40 = 70, a exactly at its mark
    results = technical_results(table_from_scores(criteria, props(*scores), scores), overall_pass_mark=D(50))
    r = by_key(results)
    assert [x.proposal for x in results] == ["EXACTLY_AT_MARKS", "PASSES", "HIGH_BUT_WEAK_B", "LOW_OVERALL"]
    assert r["EXACTLY_AT_MARKS"].passed and r["PASSES"].passed
    assert not r["HIGH_BUT_WEAK_B"].passed and r["HIGH_BUT_WEAK_B"].failed_criteria == ("b",)
    assert not r["HIGH_BUT_WEAK_B"].below_overall_pass_mark
    assert not r["LOW_OVERALL"].passed and r["LOW_OVERALL"].failed_criteria == ()
    assert r["LOW_OVERALL"].below_overall_pass_mark and r["LOW_OVERALL"].total == D(46)


def test_totals_are_exact_before_rounding():
    # 1/3 + 2/3 of the same weight: exact rational arithmetic makes the totals equal (a real tie)
    criteria = [crit("a", 50, max_score=3), crit("b", 50, max_score=3)]
    scores = {"P1": {"a": D(1), "b": D(2)}, "P2": {"a": D(2), "b": D(1)}}
    results = technical_results(table_from_scores(criteria, props("P1", "P2"), scores))
    assert results[0].total == results[1].total == D(50)
    assert results[0].proposal == "P2" and results[1].tie_break.rule is TieRule.criterion


# ------------------------------------------------------------------------------------------------
# Moderation
# ------------------------------------------------------------------------------------------------

def test_moderation_statistics_and_an_outlier():
    criteria = [crit("a", 100)]
    values = {"m1": 7, "m2": 7, "m3": 8, "m4": 7, "m5": 2}
    table = build_table(criteria, props("P"), [MemberScore("P", "a", m, D(v)) for m, v in values.items()])
    (cell,) = moderation(table, threshold=D(2))
    assert cell.count == 5
    assert cell.mean == D("6.2") and cell.median == D(7) and cell.range == D(6)
    # population sd: deviations .8 .8 1.8 .8 -4.2 -> squares sum 22.8 -> /5 = 4.56 -> sqrt = 2.13542...
    assert cell.std == D("2.1354")
    # m5: |2 - median(7, 7, 8, 7)| = 5 > 2; m3: |8 - 7| = 1
    assert cell.outliers == ("m5",)
    # exactly at the threshold is not an outlier: |2 - 7| = 5
    assert moderation(table, threshold=D(5))[0].outliers == ()
    assert moderation(table, threshold=D("4.99"))[0].outliers == ("m5",)


def test_moderation_with_missing_scores_and_a_single_member():
    criteria = [crit("a", 50), crit("b", 50)]
    scores = [MemberScore("P", "a", "m1", D("7.5")), MemberScore("P", "a", "m2", D(2)),
              MemberScore("P", "b", "m1", D(3))]
    cells = {c.criterion: c for c in moderation(build_table(criteria, props("P", "Q"), scores), D(1))
             if c.proposal == "P"}
    assert cells["a"].median == D("4.75") and cells["a"].outliers == ("m1", "m2")  # two members: each is "the others"
    assert cells["b"].count == 1 and cells["b"].std == D(0) and cells["b"].outliers == ()
    empty = [c for c in moderation(build_table(criteria, props("P", "Q"), scores), D(1)) if c.proposal == "Q"]
    assert all(c.count == 0 and c.mean is None for c in empty)


# ------------------------------------------------------------------------------------------------
# Price scoring
# ------------------------------------------------------------------------------------------------

PRICES = {"A": D(100_000), "B": D(125_000), "C": D(200_000), "D": D(250_000)}


def test_price_lowest_pro_rata():
    # 100 × lowest / price: 100, 100×100/125 = 80, 100×100/200 = 50, 100×100/250 = 40
    assert price_scores(PRICES, PriceFormula.lowest_pro_rata) == {"A": D(100), "B": D(80), "C": D(50), "D": D(40)}


def test_price_linear_between_lowest_and_highest():
    # 100 × (250 - price) / (250 - 100): 100, 100×125/150 = 83.3333, 100×50/150 = 33.3333, 0
    assert price_scores(PRICES, "linear") == {"A": D(100), "B": D("83.3333"), "C": D("33.3333"), "D": D(0)}
    assert price_scores({"A": D(5), "B": D(5)}, "linear") == {"A": D(100), "B": D(100)}


def test_price_proportional_to_difference_floored_at_zero():
    # 100 × (1 - (price - 100)/100): 100, 75, 0, and -50 floored at 0
    assert price_scores(PRICES, PriceFormula.proportional_difference) == {
        "A": D(100), "B": D(75), "C": D(0), "D": D(0)}
    assert price_scores({"A": D(100), "B": D(110)}, "proportional_difference", max_points=D(30)) == {
        "A": D(30), "B": D(27)}


def test_price_input_is_checked():
    with pytest.raises(ValueError, match="more than 0"):
        price_scores({"A": D(0)}, "linear")
    with pytest.raises(ValueError, match="must be a Decimal"):
        price_scores({"A": 1.5}, "linear")
    with pytest.raises(ValueError):
        price_scores({"A": D(1)}, "cheapest wins")


def test_combined_scores_only_for_technically_compliant():
    criteria = [crit("a", 100)]
    scores = {"X": {"a": D(8)}, "Y": {"a": D(7)}, "Z": {"a": D(4)}}    # totals 80, 70, 40
    technical = technical_results(table_from_scores(criteria, props("X", "Y", "Z"), scores),
                                  overall_pass_mark=D(50))
    prices = {"X": D(125_000), "Y": D(100_000), "Z": D(50_000)}          # Z is cheapest but fails technically
    combined = by_key(combined_results(technical, prices, "lowest_pro_rata",
                                       technical_share=D(70), price_share=D(30)))
    # among compliant X, Y the lowest is Y: Y 100, X 100×100/125 = 80
    # X: 0.7×80 + 0.3×80 = 80; Y: 0.7×70 + 0.3×100 = 79
    assert combined["X"].price_points == D(80) and combined["Y"].price_points == D(100)
    assert combined["X"].combined == D(80) and combined["Y"].combined == D(79)
    assert combined["X"].rank == 1 and combined["Y"].rank == 2
    assert combined["Z"].rank is None and combined["Z"].price_points is None and combined["Z"].combined is None
    with pytest.raises(ValueError, match="add up to 90, not 100"):
        combined_results(technical, prices, "linear", technical_share=D(70), price_share=D(20))
    with pytest.raises(ValueError, match="no price"):
        combined_results(technical, {"X": D(1)}, "linear")


# ------------------------------------------------------------------------------------------------
# Robustness
# ------------------------------------------------------------------------------------------------

def _panel(member_scores, criteria, proposals):
    return build_table(criteria, proposals, [MemberScore(p, c.key, m, D(v))
                                             for m, rows in member_scores.items()
                                             for p, values in rows.items()
                                             for c, v in zip(criteria, values)])


LOO_CRITERIA = [crit("a", 60, position=1, name_en="Approach", name_zh="方案"),
                crit("b", 40, position=2, name_en="Innovation", name_zh="創新")]
LOO_SCORES = {"m1": {"P1": (8, 5), "P2": (7, 7)},
              "m2": {"P1": (9, 4), "P2": (7, 6)},
              "m3": {"P1": (6, 6), "P2": (8, 6)}}


def test_leave_one_member_out_changes_and_keeps_the_winner():
    table = _panel(LOO_SCORES, LOO_CRITERIA, props("P1", "P2"))
    # all: P1 a 23/3, b 5 -> 46 + 20 = 66; P2 a 22/3, b 19/3 -> 44 + 25.33 = 69.33 -> P2 first
    assert first_place(table) == "P2"
    loo = {w.member: w for w in leave_one_member_out(table)}
    # without m1: P1 7.5, 5 -> 65; P2 7.5, 6 -> 69     (P2 stays)
    # without m2: P1 7, 5.5 -> 64; P2 7.5, 6.5 -> 71   (P2 stays)
    # without m3: P1 8.5, 4.5 -> 69; P2 7, 6.5 -> 68   (P1 first)
    assert (loo["m1"].first, loo["m1"].changes_first) == ("P2", False)
    assert (loo["m2"].first, loo["m2"].changes_first) == ("P2", False)
    assert (loo["m3"].first, loo["m3"].changes_first) == ("P1", True)


def test_leave_one_member_out_with_partial_assignment():
    criteria = [crit("a", 100)]
    table = _panel({"m1": {"P1": (9,), "P2": (5,)}, "m2": {"P2": (6,)}}, criteria, props("P1", "P2"))
    loo = {w.member: w for w in leave_one_member_out(table)}
    assert loo["m1"].unscored == ("P1",) and loo["m1"].first == "P2" and loo["m1"].changes_first
    assert loo["m2"].first == "P1" and not loo["m2"].changes_first


def test_weight_shift_found_exactly_with_a_tie_on_the_way():
    criteria = [crit("A", 50, position=1), crit("B", 30, position=2), crit("C", 20, position=3)]
    # P1: 45 + 15 + 10 = 70; P2: 25 + 27 + 16 = 68
    scores = {"P1": {"A": D(9), "B": D(5), "C": D(5)}, "P2": {"A": D(5), "B": D(9), "C": D(8)}}
    table = table_from_scores(criteria, props("P1", "P2"), scores)
    # A->B gains P2 0.8 per point: 2.5 points tie at 69 (P1 still first: higher on A, still the heaviest);
    # 3 points: P1 68.8, P2 69.2. A->C gains 0.7 per point: also first at 3 (2.1 > 2), but A->B comes first.
    shift = smallest_weight_shift(table)
    assert shift == WeightShift("A", "B", D(3), "P2")
    assert shift.as_tuple() == ("A", "B", D(3))
    # with a 1-point step the first change is also at 3; with 2-point steps at 4
    assert smallest_weight_shift(table, step=D(1)).points == D(3)
    assert smallest_weight_shift(table, step=D(2)).points == D(4)
    # positive control for the tie: at exactly 2.5 points P1 keeps first place
    moved = [replace(criteria[0], weight=D("47.5")), replace(criteria[1], weight=D("32.5")), criteria[2]]
    assert first_place(table_from_scores(moved, props("P1", "P2"), scores)) == "P1"


def test_weight_shift_two_member_example_and_none_when_dominant():
    table = _panel(LOO_SCORES, LOO_CRITERIA, props("P1", "P2"))
    # P1 - P2 = wa/30 - (100 - wa)×2/15: zero at wa = 80, where P1 wins the tie on "a" -> 20 points b->a
    assert smallest_weight_shift(table) == WeightShift("b", "a", D(20), "P1")
    dominant = table_from_scores(LOO_CRITERIA, props("P1", "P2"),
                                 {"P1": {"a": D(9), "b": D(9)}, "P2": {"a": D(8), "b": D(8)}})
    assert smallest_weight_shift(dominant) is None


def test_weight_shift_respects_overall_pass_mark():
    # The only passing proposal fails the overall mark once enough weight moves: first place becomes None
    criteria = [crit("a", 50), crit("b", 50)]
    scores = {"P": {"a": D(10), "b": D(2)}, "Q": {"a": D(0), "b": D(1)}}   # P 60, Q 5
    table = table_from_scores(criteria, props("P", "Q"), scores)
    shift = smallest_weight_shift(table, overall_pass_mark=D(55))
    # P = 10/10 × (50 - x) + 2/10 × (50 + x) = 60 - 0.8x < 55 when x > 6.25 -> 6.5 points
    assert shift == WeightShift("a", "b", D("6.5"), None)


def test_agreement_alpha_and_its_undefined_cases():
    criteria = [crit("same", 25), crit("agree", 25), crit("mixed", 25), crit("solo", 25)]
    members = {"m1": {"P1": (5, 2, 3, 4), "P2": (5, 6, 7, 1), "P3": (5, 9, 4, 2)},
               "m2": {"P1": (5, 2, 8, None), "P2": (5, 6, 2, None), "P3": (5, 9, 5, None)}}
    rows = [MemberScore(p, c.key, m, D(v)) for m, r in members.items() for p, vals in r.items()
            for c, v in zip(criteria, vals) if v is not None]
    table = build_table(criteria, props("P1", "P2", "P3"), rows)
    got = {a.criterion: a for a in panel_agreement(table)}
    assert got["same"].alpha is None and got["same"].reason is AlphaUndefined.no_variance
    assert got["agree"].alpha == pytest.approx(1.0)
    assert got["solo"].alpha is None and got["solo"].reason is AlphaUndefined.one_member
    assert got["mixed"].alpha is not None and got["mixed"].alpha < 0.5 and got["mixed"].members == 2
    import krippendorff
    expected = krippendorff.alpha(reliability_data=[[3, 7, 4], [8, 2, 5]], level_of_measurement="interval")
    assert got["mixed"].alpha == pytest.approx(expected)
    # nobody shares a proposal
    split = build_table([crit("a", 100)], props("P1", "P2"),
                        [MemberScore("P1", "a", "m1", D(1)), MemberScore("P2", "a", "m2", D(2))])
    assert panel_agreement(split)[0].reason is AlphaUndefined.no_shared_proposal


def test_robustness_sentences_in_english_and_chinese():
    table = _panel(LOO_SCORES, LOO_CRITERIA, props("P1", "P2"))
    report = robustness(table)
    assert report.first == "P2" and report.members_changing_first == ("m3",)
    en = robustness_sentences(report, member_names={"m3": "Ms Chan"})
    assert en[0].startswith("Panel agreement (Krippendorff's alpha, interval): Approach ")
    assert en[1] == ("The recommended proposal would not be first without the scores of Ms Chan "
                     "(P1 would be first); a shift of 20 points of weight from Innovation to Approach "
                     "would change it.")
    zh = robustness_sentences(report, "zh_Hant")
    assert "方案" in zh[0] and "把 20 分比重由「創新」轉移至「方案」便會改變此結果" in zh[1]
    low = [a for a in report.agreement if a.alpha is not None and a.alpha < 0.667]
    # low agreement is said in plain words, never left as a bare figure; high agreement gets no warning
    assert ("Agreement is low (below 0.667)" in en[0]) == bool(low)
    assert ("一致程度偏低" in zh[0]) == bool(low)

    stable = table_from_scores(LOO_CRITERIA, props("P1", "P2"),
                               {"P1": {"a": D(9), "b": D(9)}, "P2": {"a": D(8), "b": D(8)}})
    en = robustness_sentences(robustness(stable))
    assert "Panel agreement" in en[0] and "not defined (fewer than two members scored it)" in en[0]
    assert "Agreement is low" not in en[0]  # an undefined alpha is not a low one
    assert en[1] == ("With fewer than two members, leaving one out cannot be tested; no shift of weight from "
                     "one criterion to another, up to its whole weight, would change it.")
    two = _panel({"m1": {"P1": (9, 9), "P2": (8, 8)}, "m2": {"P1": (9, 8), "P2": (7, 8)}},
                 LOO_CRITERIA, props("P1", "P2"))
    assert robustness_sentences(robustness(two))[1] == (
        "The recommended proposal stays first without any one member; no shift of weight from "
        "one criterion to another, up to its whole weight, would change it.")
    zh = robustness_sentences(robustness(two), "zh_Hant")
    assert zh[1].startswith("即使剔除任何一名成員的評分，獲推薦的建議書仍排名第一")
    assert leave_one_member_out(stable) == ()


# ------------------------------------------------------------------------------------------------
# Properties
# ------------------------------------------------------------------------------------------------

@st.composite
def panels(draw, max_criteria=5, max_proposals=6, max_members=4, headroom=0, pass_marks=True):
    """Criteria with weights (hundredths) adding up to 100, proposals, and a full panel of member scores."""
    n_c = draw(st.integers(1, max_criteria))
    cuts = sorted(draw(st.lists(st.integers(1, 9999), min_size=n_c - 1, max_size=n_c - 1, unique=True)))
    weights = [b - a for a, b in zip([0, *cuts], [*cuts, 10000])]
    criteria = []
    for i, w in enumerate(weights):
        maximum = draw(st.sampled_from([5, 7, 10, 100]))
        mark = draw(st.one_of(st.none(), st.integers(0, maximum))) if pass_marks else None
        criteria.append(CriterionSpec(f"c{i}", D(w) / 100, D(maximum), None if mark is None else D(mark),
                                      position=i))
    n_p = draw(st.integers(1, max_proposals))
    proposals = [ProposalSpec(f"p{i}", T0 + timedelta(minutes=draw(st.integers(0, 3)))) for i in range(n_p)]
    members = [f"m{i}" for i in range(draw(st.integers(1, max_members)))]
    scores = [MemberScore(p.key, c.key, m,
                          D(draw(st.integers(0, int(c.max_score * 2) - 2 * headroom))) / 2)
              for p in proposals for c in criteria for m in members]
    return criteria, proposals, scores


PROPERTY = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(panels(), st.one_of(st.none(), st.integers(0, 100)))
def test_property_ranking_is_a_total_order_consistent_with_totals(panel, overall):
    criteria, proposals, scores = panel
    results = technical_results(build_table(criteria, proposals, scores),
                                overall_pass_mark=None if overall is None else D(overall))
    assert [r.rank for r in results] == list(range(1, len(proposals) + 1))
    assert sorted(r.proposal for r in results) == sorted(p.key for p in proposals)
    for r in results:
        assert D(0) <= r.total <= D(100)
        assert sum(r.weighted.values()) == pytest.approx(r.total, abs=D("0.0001") * len(criteria))
    for upper, lower in zip(results, results[1:]):
        assert (upper.passed, upper.total) >= (lower.passed, lower.total)  # passing first, then total
        if lower.tie_break is not None:
            assert upper.passed == lower.passed and upper.total == lower.total
            assert lower.tie_break.above == upper.proposal
        elif upper.passed == lower.passed:
            assert upper.total >= lower.total


@PROPERTY
@given(panels(), st.randoms(use_true_random=False))
def test_property_order_of_criteria_in_the_list_does_not_matter(panel, rnd):
    criteria, proposals, scores = panel
    shuffled = list(criteria)
    rnd.shuffle(shuffled)
    a = technical_results(build_table(criteria, proposals, scores), overall_pass_mark=D(40))
    b = technical_results(build_table(shuffled, proposals, scores), overall_pass_mark=D(40))
    assert [(r.proposal, r.total, r.passed, r.tie_break) for r in a] == \
           [(r.proposal, r.total, r.passed, r.tie_break) for r in b]


@PROPERTY
@given(panels(headroom=1, pass_marks=False), st.sampled_from([D("0.5"), D(1)]))
def test_property_uniform_constant_added_to_every_score_keeps_the_ranking(panel, constant):
    criteria, proposals, scores = panel
    raised = [replace(s, score=s.score + constant) for s in scores]
    before = technical_results(build_table(criteria, proposals, scores))
    after = technical_results(build_table(criteria, proposals, raised))
    assert [r.proposal for r in before] == [r.proposal for r in after]
    assert all(b.total <= a.total for b, a in zip(before, after))


@PROPERTY
@given(st.dictionaries(st.sampled_from("ABCDEFG"), st.decimals(min_value=D("0.01"), max_value=D(10 ** 9),
                                                                 places=2), min_size=1),
       st.sampled_from(list(PriceFormula)), st.sampled_from([D(100), D(30), D(1)]))
def test_property_lowest_price_scores_full_marks(prices, formula, max_points):
    points = price_scores(prices, formula, max_points=max_points)
    lowest = min(prices.values())
    for key, price in prices.items():
        assert D(0) <= points[key] <= max_points
        if price == lowest:
            assert points[key] == max_points


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(panels(max_criteria=4, max_proposals=4, max_members=2, pass_marks=False))
def test_property_weight_shift_is_the_smallest_that_changes_the_first_place(panel):
    criteria, proposals, scores = panel
    table = build_table(criteria, proposals, scores)
    winner = first_place(table)
    shift = smallest_weight_shift(table, step=D(5))
    index = {c.key: i for i, c in enumerate(criteria)}

    def first_after(frm, to, points):
        moved = list(criteria)
        moved[index[frm]] = replace(moved[index[frm]], weight=moved[index[frm]].weight - points)
        moved[index[to]] = replace(moved[index[to]], weight=moved[index[to]].weight + points)
        moved = [c for c in moved if c.weight > 0]
        kept = {c.key for c in moved}
        return first_place(build_table(moved, proposals, [s for s in scores if s.criterion in kept]))

    if shift is None:
        return
    assert winner is not None
    assert first_after(shift.from_criterion, shift.to_criterion, shift.points) == shift.new_first != winner
    # no smaller multiple of the step on any pair changes it
    for a in criteria:
        for b in criteria:
            if a is b:
                continue
            points = D(5)
            while points < shift.points and points <= a.weight:
                assert first_after(a.key, b.key, points) == winner
                points += 5


def test_moderation_arrays_agree_with_numpy_reference():
    rng = np.random.default_rng(1)
    criteria = [crit(f"c{i}", 25) for i in range(4)]
    proposals = props(*[f"p{i}" for i in range(5)])
    values = rng.integers(0, 21, size=(5, 4, 3)) / 2
    scores = [MemberScore(f"p{p}", f"c{c}", f"m{m}", D(str(values[p, c, m])))
              for p in range(5) for c in range(4) for m in range(3)]
    arr = moderation_arrays(build_table(criteria, proposals, scores), D(2))
    assert np.allclose(arr.mean, values.mean(axis=2)) and np.allclose(arr.median, np.median(values, axis=2))
    assert np.allclose(arr.std, values.std(axis=2))
    for m in range(3):
        others = np.median(np.delete(values, m, axis=2), axis=2)
        assert (arr.outlier[:, :, m] == (np.abs(values[:, :, m] - others) > 2)).all()


def _reference_totals(criteria, proposals, scores):
    """Naive exact totals with Fractions: mean of members / max × weight, summed."""
    from fractions import Fraction
    cells = {}
    for s in scores:
        cells.setdefault((s.proposal, s.criterion), []).append(Fraction(s.score))
    return {p.key: sum(Fraction(c.weight) * sum(cells[p.key, c.key]) / len(cells[p.key, c.key])
                       / Fraction(c.max_score) for c in criteria) for p in proposals}


@PROPERTY
@given(panels(pass_marks=False))
def test_property_totals_match_a_naive_fraction_reference(panel):
    criteria, proposals, scores = panel
    reference = _reference_totals(criteria, proposals, scores)
    results = technical_results(build_table(criteria, proposals, scores))
    for r in results:
        assert abs(Fraction(r.total) - reference[r.proposal]) <= Fraction(1, 20000)
    exact = [reference[r.proposal] for r in results]
    assert exact == sorted(exact, reverse=True)


def test_exotic_scales_use_exact_python_integers():
    import random
    from scoring.aggregation import _prepare
    maxima = ["9.7", "8.9", "8.3", "7.9", "6.1", "5.3"]
    criteria = [crit(f"c{i}", w, max_score=D(m), position=i) for i, (w, m) in
                enumerate(zip([20, 20, 20, 20, 10, 10], maxima))]
    proposals = props(*[f"p{i}" for i in range(6)])
    rnd = random.Random(1)
    scores = [MemberScore(p.key, c.key, f"m{m}", D(rnd.randint(0, int(c.max_score * 10))) / 10)
              for p in proposals for c in criteria for m in range(7) if rnd.random() < 0.9]
    table = build_table(criteria, proposals, scores)
    assert _prepare(table).U.dtype == object          # the int64 bound would be exceeded
    reference = _reference_totals(criteria, proposals, scores)
    results = technical_results(table, overall_pass_mark=D(40))
    assert [r.proposal for r in results] == sorted(reference, key=lambda k: -reference[k])
    for r in results:
        assert abs(Fraction(r.total) - reference[r.proposal]) <= Fraction(1, 20000)
    report = robustness(table, overall_pass_mark=D(40))
    assert report.first == results[0].proposal and len(report.without_member) == 7
