"""The board's counters: the counts kept by the writes (migration 0013) and the live
remainders, read by the supervisors' board and by /metrics."""
