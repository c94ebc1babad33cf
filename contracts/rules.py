"""Pure rules of the contracts area (no database, no Flask): KPI met/missed, service credits, trends, reporting
periods, the programme's money. Money is Decimal, rounded to cents with ROUND_HALF_UP."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0")
AT_LEAST, AT_MOST = "at_least", "at_most"
_GROUPED = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d+)?$")


def money(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def parse_figure(text: str | None) -> Decimal:
    """A reported figure as typed ("99.5", "1,250"); ValueError for anything else (letters, blanks, NaN, 1e5, a
    decimal comma)."""
    cleaned = (text or "").strip()
    if "," in cleaned:  # thousands separators only: "98,6" (a decimal comma) is refused, not read as 986
        if not _GROUPED.match(cleaned):
            raise ValueError(cleaned)
        cleaned = cleaned.replace(",", "")
    if not cleaned or any(ch not in "0123456789.-" for ch in cleaned):
        raise ValueError(cleaned)
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(cleaned) from None
    if not value.is_finite() or abs(value) >= Decimal("1e12"):
        raise ValueError(cleaned)
    return value


def shortfall(value: Decimal, target: Decimal, direction: str) -> Decimal:
    """How far value falls short of target (zero when met): below a floor (at_least) or above a ceiling (at_most)."""
    gap = (target - value) if direction == AT_LEAST else (value - target)
    return max(gap, ZERO)


def kpi_met(value: Decimal, target: Decimal, direction: str) -> bool:
    return shortfall(value, target, direction) == ZERO


def service_credit(value: Decimal, target: Decimal, direction: str, *, step: Decimal, amount: Decimal,
                   cap: Decimal) -> Decimal:
    """The credit the contractor owes for one period: `amount` for every started `step` of shortfall, at most
    `cap`. E.g. availability target 99.5 %, step 0.5, HK$20,000 a step, cap HK$100,000: 98.6 % -> 2 steps
    (0.9 rounds up) -> HK$40,000."""
    gap = shortfall(value, target, direction)
    if gap == ZERO:
        return money(ZERO)
    steps = (gap / step).to_integral_value(rounding=ROUND_CEILING) if step > ZERO else Decimal(1)
    return money(min(steps * amount, cap))


@dataclass(frozen=True)
class Trend:
    """Flags over a KPI's history (oldest first): three misses in a row, and three periods each worse than the last."""
    repeated_misses: bool
    worsening: bool

    @property
    def flagged(self) -> bool:
        return self.repeated_misses or self.worsening


def trend(values: list[Decimal], target: Decimal, direction: str) -> Trend:
    last3 = values[-3:]
    misses = len(last3) == 3 and all(not kpi_met(v, target, direction) for v in last3)
    gaps = [(target - v) if direction == AT_LEAST else (v - target) for v in values[-3:]]
    worsening = len(gaps) == 3 and gaps[0] < gaps[1] < gaps[2]
    return Trend(repeated_misses=misses, worsening=worsening)


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def period_end(period_start: date) -> date:
    """The first day after a monthly period."""
    return next_month(period_start)


def due_in_period(frequency: str, period_start: date) -> bool:
    """Monthly KPIs are reported every month; quarterly ones in the last month of each calendar quarter."""
    return frequency == "monthly" or period_start.month % 3 == 0


def reportable_periods(starts_on: date, ends_on: date, today: date) -> list[date]:
    """Months of the term that have ended by today (a period is reported after it ends), oldest first."""
    periods, month = [], month_start(starts_on)
    while month <= ends_on and period_end(month) <= today:
        periods.append(month)
        month = next_month(month)
    return periods


def avoided_so_far(total: Decimal, starts_on: date, ends_on: date, today: date) -> Decimal:
    """The cost avoidance accrued evenly over the term, up to today (zero before the start, total after the end)."""
    if today <= starts_on:
        return money(ZERO)
    days = (ends_on - starts_on).days + 1
    elapsed = min((today - starts_on).days, days)
    return money(total * Decimal(elapsed) / Decimal(days))


def headroom(funding: Decimal, committed: Decimal) -> Decimal:
    return money(funding - committed)


def add_years(day: date, years: int) -> date:
    """The same day `years` later (29 February becomes 28 February in a common year)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def contract_year(starts_on: date, year: int) -> tuple[date, date]:
    """The first day of contract year `year` (1 starts on the start date) and the first day after it."""
    return add_years(starts_on, year - 1), add_years(starts_on, year)


def contract_years(starts_on: date, ends_on: date, today: date) -> list[int]:
    """The contract years of the term that have begun by today, oldest first."""
    years, year = [], 1
    while contract_year(starts_on, year)[0] <= min(ends_on, today):
        years.append(year)
        year += 1
    return years


def trend_flags_over(values: list[Decimal], target: Decimal, direction: str) -> Trend:
    """Whether the flags of `trend` were raised at any point of the series (not only at its end): what a year's
    report says about the year."""
    flags = [trend(values[:i], target, direction) for i in range(3, len(values) + 1)]
    return Trend(repeated_misses=any(f.repeated_misses for f in flags), worsening=any(f.worsening for f in flags))
