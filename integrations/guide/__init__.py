"""The public service guide (信息公开): per hotline, the services it takes with their time
limits and their published 办事指南, the general questions, the running outages by
area, the numbers and hours. Read only; no sign-in (docs/knowledge.md)."""
