"""Forms of the eoi area: officer.py (set-up, answers, addenda, opening), vendor.py (search, questions, the proposal)."""
