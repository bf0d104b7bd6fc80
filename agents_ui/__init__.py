"""The consoles: the agents' console, the enterprise inbox, the supervisors' board and
the order page (static/), with the views only they need (sign-in, orders, reference
lists, the console and board endpoints)."""
