"""Exchange with the city's 12345 platform and other hotlines (docs/exchange.md):
orders received (``inbound``), passed on (``transfer``), every status the platform
must see turned into a message (``feed``) and sent in order, once each (``delivery``),
under a contract per platform (``contract``)."""
