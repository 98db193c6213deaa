"""The same batch on the process pool and on a local Dask cluster, alternating, twice: wall time, CPU-seconds and
peak memory (resident summed, and proportional) of each command and all its processes, one JSON line each.

    PYTHONPATH=. python benchmarks/dask_vs_pool.py [RUNS]
"""

import json
import os
import sys
import tempfile

from sim.batch.bench import measure_command

runs = sys.argv[1] if len(sys.argv) > 1 else "200000"
with tempfile.TemporaryDirectory() as out:
    base = ["run", os.path.abspath("scenarios/limited_deployment.yaml"), "--runs", runs, "--variants", "baseline",
            "--no-runs", "--no-charts", "--workers", "2", "--out", out]
    for _ in range(2):
        for executor in ("process", "dask"):
            row = measure_command([*base, "--executor", executor])
            print(json.dumps({"executor": executor, "load_average": os.getloadavg(), **row}), flush=True)
