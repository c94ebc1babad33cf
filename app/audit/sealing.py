"""Which audit events are about sealed content, so the audit page shows only counts before opening.

An area declares in its init_app (app/hooks.py: add_audit_seal, add_sealed_scopes) how to tell the sealed scope
and the party of an object (a submission: its exercise and its vendor) and which scopes are sealed now
(exercises not opened yet). record() stores the scope and party with the event (AuditEvent.seal_scope/party).
"""
from __future__ import annotations

from typing import Any, Optional

import sqlalchemy as sa

from app.hooks import hooks


def seal_of(obj: Any) -> tuple[Optional[str], Optional[str]]:
    if obj is None:
        return None, None
    seal = hooks().audit_seals.get(type(obj))
    return (seal(obj) if seal else None) or (None, None)


def sealed_scopes() -> Optional[sa.Subquery]:
    """A subquery (scope, label) of every scope sealed now, or None if no area declares any."""
    queries = [query() for query in hooks().sealed_scopes.values()]
    if not queries:
        return None
    return (sa.union_all(*queries) if len(queries) > 1 else queries[0]).subquery("sealed_scopes")
