"""Data gates: Great Expectations suites run on typed frames, and their reports."""
