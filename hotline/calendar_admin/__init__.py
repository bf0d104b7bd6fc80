"""The working calendar's administration (docs/core.md, "Working calendar
administration"): a year's holidays and make-up working days, entered from a file or by
hand, checked for completeness, and confirmed against the State Council's notice. The
core writes ``calendar_days`` and ``calendar_years``; every process's calendar follows
through ``reference_versions`` and its announcement."""
