"""Exports (docs/reports.md, "Exports"): a list written to an XLSX or CSV file by an RQ
job, its progress counted as it goes, the file kept for a day. What is exported comes
from a source (``sources.SOURCES``: the orders a search finds, later the reports); how a
sheet becomes a file is ``writers``."""
