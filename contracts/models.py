"""Models of the contracts area: Decision (+ approvals), Award, Contract (+ variations, milestones), KpiReport.
None yet: they come with the contracts issue."""
