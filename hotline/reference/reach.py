"""Which service items a hotline takes, by the hotline's domain: one definition for the
order-entry suggestions (a hotline's callers rarely ask about another's items), the
outages a hotline's callers hear of and the public service guide's list of services."""

from __future__ import annotations

# The domains whose supply can be cut (停水/停气/停热): an outage notice names one.
UTILITIES = ("water", "gas", "heating")
# 96111 (water) takes water and the utility card's billing; 96556 (energy) gas and
# heating. A hotline of no domain (12319, city management) takes everything.
HOTLINE_REACH = {"water": frozenset({"water", "billing"}), "energy": frozenset({"gas", "heating"})}


def reaches(hotline_domain: str | None, item_domain: str | None) -> bool:
    """Whether a hotline of ``hotline_domain`` takes items of ``item_domain`` (an item
    of no domain is every hotline's)."""
    if hotline_domain is None or item_domain is None:
        return True
    return item_domain in HOTLINE_REACH.get(hotline_domain, {item_domain})


def outage_domains(hotline_domain: str | None) -> list[str]:
    """The outage domains a hotline's callers hear of."""
    return [domain for domain in UTILITIES if reaches(hotline_domain, domain)]
