"""Views of the contracts area (decisions, awards, contracts, KPI reports): none yet; routes register on
contracts.bp and follow app.boundary (operations raise, the boundary answers, the view commits once)."""
