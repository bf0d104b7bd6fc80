"""Suggestions for order entry: the service item, the area and the urgency of what a
citizen says."""
