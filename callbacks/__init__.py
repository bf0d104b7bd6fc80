"""回访: campaigns within calling hours, attempts and pacing, ratings, reopening
unsatisfied orders, spot checks (the callbacks issue)."""
