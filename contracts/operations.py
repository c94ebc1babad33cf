"""Every state-changing action of the contracts area (approve_decision, issue_award_letter, sign_contract, ...),
each taking actor=, auditing and flushing, never committing: none yet."""
