"""Runs per CPU-second of the engine in this process: ``simulate`` of the reference scenario's baseline over chunks
of 10,000 runs, after one warm-up chunk of 100. Run it from the checkout to measure (``PYTHONPATH`` chooses the
code, ``ESCALATION_ENGINE`` the path), alternating checkouts and paths in the same minutes:

    ESCALATION_ENGINE=numpy PYTHONPATH=. python benchmarks/engine_cpu.py 5
    ESCALATION_ENGINE=numba PYTHONPATH=. python benchmarks/engine_cpu.py 5
"""

import sys
import time

import numpy as np

from sim.batch.bench import baseline_context
from sim.engine.model import simulate
from sim.spec.loading import default_scenarios_dir, load_doctrine, load_scenario

chunks = int(sys.argv[1]) if len(sys.argv) > 1 else 3
doctrine = load_doctrine()
ctx = baseline_context(doctrine, load_scenario(default_scenarios_dir() / "limited_deployment.yaml", doctrine))
simulate(ctx, np.arange(100), "baseline")
t0 = time.process_time()
for i in range(chunks):
    simulate(ctx, np.arange(i * 10_000, (i + 1) * 10_000), "baseline")
print(f"{chunks * 10_000 / (time.process_time() - t0):.0f} runs per CPU-second")
