"""Public intake: Open311 GeoReport v2 (``/open311/v2``) and the public web form
(``/report``). Both turn a citizen's report into a draft work order an agent confirms,
behind the rate limits of ``integrations.ratelimit``; see docs/integrations.md."""
