"""Benchmark: model fits on about 100,000 simulated client responses.

Prints the wall time of every model beside its target on 2 cores, and
whether it is met: the ordinal logit with cluster-robust errors within 5 s
and the random-intercept mixed model within 1.5 s (R's polr and lmer take
about 9 s and 0.8 s on such data); the clustered OLS, the mixed model with
a random care slope (statsmodels' MixedLM) and the bootstrapped key-driver
analyses (dominance and relative weights, 200 account resamples each)
within 30 s.  Not a test: run
``.venv/bin/python bench/models.py [--responses N] [--boot B]``.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=100_000, help="client responses to simulate (about)")
    parser.add_argument("--boot", type=int, default=200, help="bootstrap resamples for the driver analysis")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    from helpers.data.sample import simulate
    from helpers.stats import drivers, model_data, nps_models
    from helpers.stats.diagnostics import ModelWarning

    warnings.simplefilter("ignore", ModelWarning)
    # the default sample has ≈ 15 client responses per account and wave, 4 waves
    n_accounts = max(10, round(args.responses / 60))
    t0 = time.perf_counter()
    sim = simulate(seed=args.seed, n_accounts=n_accounts, staff_range=(2, 3))
    t1 = time.perf_counter()
    answers = model_data.answers_from_wide(sim.responses[sim.responses["side"] == "client"])
    data = model_data.respondent_table(answers, sim.responses)
    t2 = time.perf_counter()
    print(f"data: {len(data):,} client responses in {data['account_id'].nunique():,} accounts "
          f"(simulate {t1 - t0:.1f} s, respondent table {t2 - t1:.1f} s)")

    timings: dict[str, tuple[float, float]] = {}

    def timed(label, target, fn, *a, **kw):
        start = time.perf_counter()
        out = fn(*a, **kw)
        timings[label] = (time.perf_counter() - start, target)
        return out

    mixed = timed("mixed model, random intercept (REML)", 1.5, nps_models.nps_mixed, data)
    timed("OLS, cluster-robust", 30, nps_models.nps_ols, data)
    timed("ordinal logit, cluster-robust", 5, nps_models.nps_ordinal, data)
    timed("mixed model, random care slope (REML)", 30, nps_models.nps_mixed, data, random_slope="care")
    dom = timed(f"dominance, {args.boot} account resamples", 30, drivers.dominance, data, n_boot=args.boot, seed=1)
    timed(f"relative weights, {args.boot} account resamples", 30, drivers.relative_weights, data, n_boot=args.boot,
          seed=1)

    width = max(len(k) for k in timings)
    for label, (secs, target) in timings.items():
        flag = "met" if secs <= target else "NOT MET"
        print(f"{label:<{width}}  {secs:7.2f} s  target {target:g} s: {flag}")
    care = mixed.set_index("term").loc["care"]
    top = dom.sort_values("rank").iloc[0]
    print(f"check: mixed-model care slope {care['coef']:.3f} (95% CI {care['ci_low']:.3f}–{care['ci_high']:.3f}); "
          f"top driver {top['term']} with {100 * top['share']:.0f}% of R² "
          f"(first in {100 * top['top_share']:.0f}% of resamples)")
    print(f"numpy threads: {np.__config__.CONFIG.get('Build Dependencies', {}).get('blas', {}).get('name', '?')}")


if __name__ == "__main__":
    main()
