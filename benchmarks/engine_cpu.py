"""Runs per CPU-second of the engine in this process: ``simulate`` of the reference scenario's baseline over chunks
of 10,000 runs (or the size given second), after one warm-up chunk of 100. Run it from the checkout to measure
(``PYTHONPATH`` chooses the code, ``ESCALATION_ENGINE`` the path), alternating checkouts and paths in the same
minutes:

    ESCALATION_ENGINE=numpy PYTHONPATH=. python benchmarks/engine_cpu.py 5
    ESCALATION_ENGINE=numba PYTHONPATH=. python benchmarks/engine_cpu.py 5
    PYTHONPATH=. python benchmarks/engine_cpu.py 4 25000       # four chunks of 25,000
"""

import sys
import time

import numpy as np

from sim.batch.bench import baseline_context
from sim.engine.model import simulate
from sim.spec.loading import default_scenarios_dir, load_doctrine, load_scenario

chunks = int(sys.argv[1]) if len(sys.argv) > 1 else 3
size = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
doctrine = load_doctrine()
ctx = baseline_context(doctrine, load_scenario(default_scenarios_dir() / "limited_deployment.yaml", doctrine))
simulate(ctx, np.arange(100), "baseline")
t0 = time.process_time()
for i in range(chunks):
    simulate(ctx, np.arange(i * size, (i + 1) * size), "baseline")
print(f"{chunks * size / (time.process_time() - t0):.0f} runs per CPU-second")
