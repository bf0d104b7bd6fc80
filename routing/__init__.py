"""Who is responsible: rules, ranked candidates with reasons, dispatch, sign-for, returns
and their review, the escalation ladder, coordination, duplicates (the routing issue)."""
