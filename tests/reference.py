"""A small pure-Python statement of the default linking rules, to check the SQL against."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Contact:
    contact_id: str
    customer_id: str  # "" = anonymous
    reason: str  # "" = unknown
    started_at: datetime
    direction: str = "inbound"
    interaction_id: str = ""


def link_reference(contacts: list[Contact], window: timedelta = timedelta(days=7)) -> list[list[str]]:
    """Cases as lists of contact ids, in the order `cases_of` returns them."""
    # a customer's legs sharing an interaction collapse to the earliest leg
    by_interaction: dict[tuple[str, str], Contact] = {}
    for c in contacts:
        key = (c.customer_id, f"i:{c.interaction_id}") if c.interaction_id else ("", f"c:{c.contact_id}")
        best = by_interaction.get(key)
        if best is None or (c.started_at, c.contact_id) < (best.started_at, best.contact_id):
            by_interaction[key] = c
    counted = [c for c in by_interaction.values() if c.customer_id and c.direction == "inbound"]
    groups: dict[tuple[str, str], list[Contact]] = defaultdict(list)
    for c in counted:
        groups[(c.customer_id, c.reason or "unknown")].append(c)
    cases: list[list[Contact]] = []
    for members in groups.values():
        members.sort(key=lambda c: (c.started_at, c.contact_id))
        current = [members[0]]
        for previous, contact in zip(members, members[1:], strict=False):
            if contact.started_at - previous.started_at > window:
                cases.append(current)
                current = []
            current.append(contact)
        cases.append(current)
    cases.sort(key=lambda case: (case[0].started_at, case[0].contact_id))
    return [[c.contact_id for c in case] for case in cases]
