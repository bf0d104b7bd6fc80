"""Hot issues (热点难点): docs/reports.md, "Hot issues"."""
