"""Pure rules: met/missed, service credits (Decimal money), trends, periods, accrued cost avoidance."""
from datetime import date
from decimal import Decimal as D

import pytest

from contracts import rules


@pytest.mark.parametrize("text, value", [("99.5", D("99.5")), (" 1,250 ", D("1250")), ("1,250,000.5", D("1250000.5")), ("-3", D("-3")), ("0", D("0"))])
def test_parse_figure_accepts_plain_numbers(text, value):
    assert rules.parse_figure(text) == value


@pytest.mark.parametrize("text", ["", "  ", "abc", "99,5%", "98,6", "1,25", "12,3456", "1e5", "NaN", "Infinity", "1.2.3", "--1", "1" * 13])
def test_parse_figure_refuses_malformed_figures(text):
    with pytest.raises(ValueError):
        rules.parse_figure(text)


@pytest.mark.parametrize("value, direction, met", [
    (D("99.5"), rules.AT_LEAST, True), (D("99.49"), rules.AT_LEAST, False), (D("100"), rules.AT_LEAST, True),
    (D("2"), rules.AT_MOST, True), (D("2.01"), rules.AT_MOST, False)])
def test_met_at_the_target_and_missed_just_past_it(value, direction, met):
    target = D("99.5") if direction == rules.AT_LEAST else D("2")
    assert rules.kpi_met(value, target, direction) is met


@pytest.mark.parametrize("value, credit", [
    (D("99.5"), D("0.00")),      # met
    (D("99.4"), D("20000.00")),  # 0.1 short: one started step
    (D("99.0"), D("20000.00")),  # exactly one step
    (D("98.6"), D("40000.00")),  # 0.9 short: two steps
    (D("90"), D("100000.00")),   # capped
])
def test_service_credit_per_started_step_up_to_the_cap(value, credit):
    result = rules.service_credit(value, D("99.5"), rules.AT_LEAST, step=D("0.5"), amount=D("20000"), cap=D("100000"))
    assert result == credit and isinstance(result, D) and result.as_tuple().exponent == -2


def test_service_credit_for_a_ceiling_kpi():
    assert rules.service_credit(D("3.2"), D("2"), rules.AT_MOST, step=D("0.5"), amount=D("10000"),
                                cap=D("50000")) == D("30000.00")


def test_trend_flags_three_misses_in_a_row_and_worsening():
    t = rules.trend([D("99.6"), D("99.2"), D("99.0"), D("98.7")], D("99.5"), rules.AT_LEAST)
    assert t.repeated_misses and t.worsening and t.flagged
    t = rules.trend([D("99.0"), D("99.6"), D("99.0")], D("99.5"), rules.AT_LEAST)
    assert not t.repeated_misses and not t.worsening and not t.flagged
    assert not rules.trend([D("98")] * 2, D("99.5"), rules.AT_LEAST).flagged  # too short to call


def test_quarterly_kpis_are_due_in_the_last_month_of_a_quarter():
    assert [m for m in range(1, 13) if rules.due_in_period("quarterly", date(2008, m, 1))] == [3, 6, 9, 12]
    assert all(rules.due_in_period("monthly", date(2008, m, 1)) for m in range(1, 13))


def test_reportable_periods_are_the_ended_months_of_the_term():
    periods = rules.reportable_periods(date(2008, 1, 1), date(2010, 12, 31), date(2008, 4, 1))
    assert periods == [date(2008, 1, 1), date(2008, 2, 1), date(2008, 3, 1)]
    assert rules.reportable_periods(date(2008, 1, 1), date(2008, 2, 29), date(2030, 1, 1)) == [date(2008, 1, 1),
                                                                                             date(2008, 2, 1)]


def test_cost_avoidance_accrues_evenly_over_the_term():
    total = D("72000000")
    assert rules.avoided_so_far(total, date(2008, 1, 1), date(2008, 12, 31), date(2007, 6, 1)) == D("0.00")
    assert rules.avoided_so_far(total, date(2008, 1, 1), date(2008, 12, 31), date(2030, 1, 1)) == D("72000000.00")
    half = rules.avoided_so_far(total, date(2008, 1, 1), date(2008, 12, 31), date(2008, 7, 2))
    assert D("35900000") < half < D("36100000")
