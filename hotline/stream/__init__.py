"""The order event stream: every row of ``order_events``, in ``seq`` order, once it is
safe to say that no lower ``seq`` can still appear (see ``horizon``)."""
