"""What recording events costs the engine: ``simulate`` of the reference scenario's baseline over chunks of 10,000
runs with and without events, alternating, in one process (runs per CPU-second):

    PYTHONPATH=. python benchmarks/events_cost.py
"""

import time

import numpy as np

from sim.batch.bench import baseline_context
from sim.engine.model import simulate
from sim.spec.loading import default_scenarios_dir, load_doctrine, load_scenario

doctrine = load_doctrine()
ctx = baseline_context(doctrine, load_scenario(default_scenarios_dir() / "limited_deployment.yaml", doctrine))
simulate(ctx, np.arange(100), "baseline", record_events=True)  # the kernels loaded
cpu = {False: 0.0, True: 0.0}
for _ in range(3):
    for events in (False, True):
        t0 = time.process_time()
        for i in range(3):
            simulate(ctx, np.arange(i * 10_000, (i + 1) * 10_000), "baseline", record_events=events)
        cpu[events] += time.process_time() - t0
runs = 3 * 3 * 10_000
print(f"without events: {runs / cpu[False]:,.0f} runs per CPU-second; with events: {runs / cpu[True]:,.0f} "
      f"(recording them costs {cpu[True] / cpu[False] - 1:+.0%})")
