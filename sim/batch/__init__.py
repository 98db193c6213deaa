"""Running a batch: chunks, executors (serial, process pool, Dask), stopping, the resource guard and the bench.
"""
