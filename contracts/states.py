"""States and transition tables of the contracts area (DecisionState, ContractState): none yet."""
