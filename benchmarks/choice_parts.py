"""What Russia's compiled choice costs, piece by piece, and what numpy's exp costs on the arguments it meets.

Steps the reference scenario's baseline (chunks of 10,000 runs) ten weeks, then times, for the NATO axis, the
utility kernel, numpy's exp over its output and the draw, and numpy's exp per element on ordinary arguments, on
-inf, on arguments whose result underflows to 0 and on arguments whose result is subnormal:

    PYTHONPATH=. python benchmarks/choice_parts.py
"""

import timeit

import numpy as np

from sim.batch.bench import baseline_context
from sim.engine.kernels import DEAD_BELOW, kernel
from sim.engine.model import EscalationModel, simulate
from sim.spec.loading import default_scenarios_dir, load_doctrine, load_scenario

doctrine = load_doctrine()
ctx = baseline_context(doctrine, load_scenario(default_scenarios_dir() / "limited_deployment.yaml", doctrine))
simulate(ctx, np.arange(100), "baseline")  # the kernels loaded
model = EscalationModel(ctx, np.arange(10_000))
for _ in range(10):
    model.step()
russia, world = model.russia, model.world
axis = russia.nato_axis
avail, det = russia._available(axis), russia._deterrence(axis)
denom, mod, norm_lev, rationality, plain = russia._choice_terms(axis)
weights, dead = np.empty((len(axis.ids), world.size)), np.empty((len(axis.ids), world.size), dtype=np.bool_)
none, choice = np.empty(world.size, dtype=np.bool_), np.empty(world.size, dtype=np.int64)


def utilities() -> None:
    kernel("russia_weights")(axis.severity, russia.desired, denom, axis.cost, mod, russia.risk_tolerance, det,
                             axis.nuclear, norm_lev, avail, axis.by_red_line, rationality, plain, weights, dead,
                             none)


def per_call(f, number: int = 300) -> float:
    return timeit.timeit(f, number=number) / number * 1e6


utilities()
scaled = weights.copy()
u = world.streams.uniform("russia:choice:nato", world.week)
print(f"NATO axis, {len(axis.ids)} options x {world.size:,} runs, week {world.week}:")
print(f"  utilities (kernel)     {per_call(utilities):8.1f} us")
print(f"  numpy exp              {per_call(lambda: np.exp(scaled, out=weights)):8.1f} us")
print(f"  draw (kernel)          {per_call(lambda: kernel('draw_columns')(weights, dead, u, none, choice)):8.1f} us")
print(f"  entries below {DEAD_BELOW:g} (weight 0 without exp): {dead.mean():.0%}")
n, out = 120_000, np.empty(120_000)
print("numpy exp per element:")
for label, value in (("ordinary (-3)", -3.0), ("-inf", -np.inf), ("underflow to 0 (-1000)", -1000.0),
                     ("subnormal result (-720)", -720.0)):
    x = np.full(n, value)
    print(f"  {label:24s} {per_call(lambda x=x: np.exp(x, out=out), 50) * 1e3 / n:7.2f} ns")
