"""Forms of the contracts area: none yet."""
