"""Pure-computation benchmark of scoring/aggregation.py and scoring/robustness.py (no database).

    .venv/bin/python bench/scoring_aggregation.py [--proposals 1000] [--criteria 20] [--members 7] [--runs 3]

Builds seeded random scores (0-10 in halves) for every proposal x criterion x member and prints the
best of --runs wall-clock timings on the last line (a line before it gives the process CPU times,
which matter when the machine is shared):

    scoring-aggregation: scores=<n> results_ms=<x> moderation_ms=<x> robustness_ms=<x>

results_ms: table built from MemberScore rows (validation included) + technical_results();
moderation_ms: moderation() (per-cell mean, median, range, std, outliers);
robustness_ms: robustness() (alpha per criterion, leave-one-member-out, smallest weight shift).
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scoring.aggregation import (CriterionSpec, MemberScore, ProposalSpec, build_table,  # noqa: E402
                                 moderation, technical_results)
from scoring.robustness import robustness  # noqa: E402


def _results(criteria, proposals, scores):
    table = build_table(criteria, proposals, scores)
    technical_results(table, overall_pass_mark=Decimal(50))
    return table


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--proposals", type=int, default=1000)
    ap.add_argument("--criteria", type=int, default=20)
    ap.add_argument("--members", type=int, default=7)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    rnd = random.Random(10)
    base, extra = divmod(10000, args.criteria)   # weights in hundredths adding up to 100.00
    criteria = [CriterionSpec(f"c{i}", Decimal(base + (1 if i < extra else 0)) / 100, Decimal(10),
                              Decimal(2), position=i) for i in range(args.criteria)]
    t0 = datetime(2026, 12, 1, tzinfo=timezone.utc)
    proposals = [ProposalSpec(f"p{i}", t0 + timedelta(seconds=i)) for i in range(args.proposals)]
    members = [f"m{i}" for i in range(args.members)]
    halves = [Decimal(k) / 2 for k in range(21)]
    quality = {p.key: rnd.uniform(3, 8) for p in proposals}
    scores = [MemberScore(p.key, c.key, m, halves[max(0, min(20, round(2 * rnd.gauss(quality[p.key], 1.5))))])
              for p in proposals for c in criteria for m in members]
    best = {k: float("inf") for k in ("results", "moderation", "robustness")}
    cpu = dict(best)

    def timed(name, fn):
        wall, proc = time.perf_counter(), time.process_time()
        value = fn()
        best[name] = min(best[name], time.perf_counter() - wall)
        cpu[name] = min(cpu[name], time.process_time() - proc)
        return value

    for _ in range(args.runs):
        table = timed("results", lambda: _results(criteria, proposals, scores))
        timed("moderation", lambda: moderation(table, Decimal(2)))
        timed("robustness", lambda: robustness(table, overall_pass_mark=Decimal(50)))
    # CPU time of this process, for comparison when the machine is shared (wall time is the figure below)
    print("cpu: " + " ".join(f"{k}_ms={v * 1000:.0f}" for k, v in cpu.items()))
    print(f"scoring-aggregation: scores={len(scores)} results_ms={best['results'] * 1000:.0f} "
          f"moderation_ms={best['moderation'] * 1000:.0f} robustness_ms={best['robustness'] * 1000:.0f}")


if __name__ == "__main__":
    main()
