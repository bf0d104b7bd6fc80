"""Who is acting: the user behind a session or an enterprise system behind an API key."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ENTERPRISE_USER = "enterprise_user"
    ENTERPRISE_ADMIN = "enterprise_admin"
    ADMIN = "admin"


CENTRE_ROLES = frozenset({Role.AGENT, Role.SUPERVISOR, Role.ADMIN})
ENTERPRISE_ROLES = frozenset({Role.ENTERPRISE_USER, Role.ENTERPRISE_ADMIN})
SUPERVISOR_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN})
# Who answers calls: agents, and supervisors stepping in.
CALL_TAKER_ROLES = frozenset({Role.AGENT, Role.SUPERVISOR})


@dataclass(frozen=True)
class Actor:
    user_id: int | None  # None for an enterprise system using an API key
    name: str
    role: Role
    enterprise_id: int | None = None
    hotline_code: str | None = None
    api_key_id: int | None = None
    # The hotlines whose orders a centre user sees and acts on; None: every hotline (an
    # admin, or a centre user tied to none). Enterprise actors are scoped by dispatch.
    hotlines: frozenset[str] | None = None

    @property
    def is_centre(self) -> bool:
        return self.role in CENTRE_ROLES

    def sees_hotline(self, hotline_code: str) -> bool:
        return self.hotlines is None or hotline_code in self.hotlines

    def label(self) -> str:
        """How the actor appears in an order's history."""
        return f"{self.name} ({self.role.value})"
