"""What a batch leaves: statistics, the summary, the write-once results folder (the only Parquet writer),
comparisons and the story of a run.
"""
