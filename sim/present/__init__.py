"""What a reader sees: charts (the only stage that imports matplotlib), the report and item explanations.
"""
