"""can_* predicates of the contracts area (segregation of duties: who decides may not approve): none yet."""
