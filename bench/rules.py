"""Rules engine vs. hand-written checks over 10,000 synthetic AMED applications.

Run from the repository root: `python bench/rules.py`. The last line is the result:
RESULT bench=rules ratio=<engine time / hand-written time> n=10000
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from grants.rules import (
    STAGES,
    CompiledRuleSet,
    VcCertification,
    amed_certified_vc,
    award_amount,
    compile_ruleset,
    evaluate,
)

N = 10_000
REPEATS = 7
ELIGIBLE_STAGES = frozenset({"non_clinical", "phase1", "phase2", "exploratory"})
RELAXED_STAGES = frozenset({"non_clinical", "discovery"})
PROJECT_END_BY = date(2031, 9, 30)

Facts = Mapping[str, Any]


def synthetic_applications(n: int, rng: random.Random) -> list[Facts]:
    return [_application(rng) for _ in range(n)]


def _application(rng: random.Random) -> Facts:
    eligible_cost = rng.randrange(100_000_000, 15_000_000_000)
    vc_total = eligible_cost * rng.randrange(25, 45) // 100
    submitted_on = date(2026, 4, 1) + timedelta(days=rng.randrange(365))
    return {
        "stage": rng.choice(STAGES),
        "listed": rng.random() < 0.1,
        "rd_base_in_japan": rng.random() < 0.95,
        "eligible_cost": eligible_cost,
        "vc_committed_total": vc_total,
        "lead_vc_committed": vc_total * rng.randrange(30, 100) // 100,
        "requested_subsidy": eligible_cost * rng.randrange(50, 75) // 100,
        "project_end": date(2028, 3, 31) + timedelta(days=rng.randrange(5 * 365)),
        "submitted_on": submitted_on,
        "investing_vcs": [_vc(rng, submitted_on, i) for i in range(rng.randrange(1, 4))],
    }


def _vc(rng: random.Random, around: date, index: int) -> VcCertification:
    revoked = around + timedelta(days=rng.randrange(-60, 600)) if rng.random() < 0.1 else None
    return VcCertification(
        name=f"VC {index}",
        certified_on=around - timedelta(days=rng.randrange(-30, 1500)),
        revoked_on=revoked,
        is_lead=index == 0,
    )


def hand_written(facts: Facts) -> tuple[list[str], list[str], int]:
    """The AMED preset's eligibility and award rules, coded directly."""
    failures: list[str] = []
    warnings: list[str] = []
    stage, cost = facts["stage"], facts["eligible_cost"]
    if stage not in ELIGIBLE_STAGES:
        failures.append("stage_eligible")
    if facts["listed"] is not False:
        failures.append("unlisted")
    if facts["rd_base_in_japan"] is not True:
        failures.append("rd_base_in_japan")
    if facts["vc_committed_total"] * 3 < cost:
        failures.append("vc_share_min")
    lead_minimum = 100_000_000 if stage in RELAXED_STAGES else 1_000_000_000
    if facts["lead_vc_committed"] < lead_minimum:
        failures.append("lead_vc_min")
    if cost > 10_000_000_000:
        warnings.append("project_size")
    if facts["project_end"] > PROJECT_END_BY:
        failures.append("project_end_deadline")
    day, leads = facts["submitted_on"], [vc for vc in facts["investing_vcs"] if vc.is_lead]
    if not leads or not all(vc.certified_at(day) for vc in leads):
        failures.append("lead_vc_certified")
    subsidy = min(facts["requested_subsidy"], cost * 2 // 3)
    return failures, warnings, subsidy


def engine(compiled: CompiledRuleSet, facts: Facts) -> tuple[bool, int]:
    trace = evaluate(compiled, "eligibility", facts)
    amount, _ = award_amount(compiled, facts)
    return trace.ok, amount


def best_times(runs: list[Callable[[Facts], object]], applications: list[Facts]) -> list[float]:
    """Best of REPEATS per function, taking turns so that machine load hits them alike.
    Timed in this process's CPU time: other processes on a busy machine (a CI runner, a
    test suite next door) then barely move the ratio, as wall time would."""
    best = [float("inf")] * len(runs)
    for _ in range(REPEATS):
        for index, run in enumerate(runs):
            start = time.process_time()
            for facts in applications:
                run(facts)
            best[index] = min(best[index], time.process_time() - start)
    return best


def main() -> None:
    applications = synthetic_applications(N, random.Random(42))
    compiled = compile_ruleset(amed_certified_vc())
    for facts in applications:  # both must agree before their speed means anything
        failures, _, subsidy = hand_written(facts)
        assert engine(compiled, facts) == (not failures, subsidy), facts
    engine_time, hand_time = best_times(
        [lambda facts: engine(compiled, facts), hand_written], applications
    )
    print(f"engine:       {engine_time * 1000:8.1f} ms for {N} applications (best of {REPEATS})")
    print(f"hand-written: {hand_time * 1000:8.1f} ms for {N} applications (best of {REPEATS})")
    print(f"RESULT bench=rules ratio={engine_time / hand_time:.2f} n={N}")


if __name__ == "__main__":
    main()
