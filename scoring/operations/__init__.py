"""Every state-changing action of the scoring area, one module per aggregate (re-exported here)."""
from scoring.operations.criteria import *  # noqa: F401,F403
from scoring.operations.panels import *  # noqa: F401,F403
from scoring.operations.conflicts import *  # noqa: F401,F403
from scoring.operations.sheets import *  # noqa: F401,F403
from scoring.operations.results import *  # noqa: F401,F403
