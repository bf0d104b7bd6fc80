"""Periodic reports (docs/reports.md, "Periodic reports"): a day's, week's, month's or
any period's report per hotline and for the whole centre, computed from the day counts
and the callbacks' figures, stored when the schedule or a supervisor makes one."""
