"""Each local day's counts (report_day_counts), rolled up from the facts of that day."""
