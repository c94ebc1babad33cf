"""Which audit events are about sealed content, so the audit page shows only counts before opening.

An area declares, when the app registers it, how to tell the sealed scope and the party of an object
(a submission: its exercise and its vendor) and which scopes are sealed now (exercises not opened yet).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import sqlalchemy as sa
from flask import Flask, current_app

#: obj -> (scope, party), e.g. ("exercise:12", "vendor:7"), or None when obj is not sealed content.
SealResolver = Callable[[Any], Optional[tuple[str, Optional[str]]]]
#: () -> select(scope, label) of the scopes sealed now, e.g. ("exercise:12", "EOI-2006-01").
SealedScopesQuery = Callable[[], sa.Select]


@dataclass
class SealedActivity:
    resolvers: dict[type, SealResolver] = field(default_factory=dict)
    sealed_scope_queries: list[SealedScopesQuery] = field(default_factory=list)

    def resolver(self, cls: type) -> Callable[[SealResolver], SealResolver]:
        def decorator(fn: SealResolver) -> SealResolver:
            self.resolvers[cls] = fn
            return fn
        return decorator


def sealed_activity(app: Optional[Flask] = None) -> SealedActivity:
    """The app's registry (areas add to it when the app factory registers their blueprints)."""
    return (app or current_app).extensions.setdefault("audit.sealed_activity", SealedActivity())


def seal_of(obj: Any) -> tuple[Optional[str], Optional[str]]:
    if obj is None:
        return None, None
    resolver = sealed_activity().resolvers.get(type(obj))
    return (resolver(obj) if resolver else None) or (None, None)


def sealed_scopes() -> Optional[sa.Subquery]:
    """A subquery (scope, label) of every scope sealed now, or None if no area declares any."""
    queries = [query() for query in sealed_activity().sealed_scope_queries]
    if not queries:
        return None
    return (sa.union_all(*queries) if len(queries) > 1 else queries[0]).subquery("sealed_scopes")
