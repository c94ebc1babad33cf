"""Every state-changing action of the eoi area (exercises.py: officers; submissions.py: vendors)."""
from eoi.operations.exercises import *  # noqa: F401,F403
from eoi.operations.submissions import *  # noqa: F401,F403
