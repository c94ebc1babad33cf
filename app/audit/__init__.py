"""Append-only, hash-chained audit log (invariants 9 and 10): record() appends at commit, verify_chain()
checks the links, signed checkpoints outside the database anchor the head (see checkpoints.py)."""
from app.audit.chain import ChainReport, chain_head, pending_events, record, verify_chain
from app.audit.models import GENESIS, AuditEvent

__all__ = ["AuditEvent", "ChainReport", "GENESIS", "chain_head", "pending_events", "record", "verify_chain"]
