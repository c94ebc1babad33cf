"""Every state-changing action of the eoi area, one module per aggregate (re-exported here)."""
from eoi.operations.common import *  # noqa: F401,F403
from eoi.operations.interest import *  # noqa: F401,F403
from eoi.operations.publication import *  # noqa: F401,F403
from eoi.operations.clarifications_addenda import *  # noqa: F401,F403
from eoi.operations.incidents import *  # noqa: F401,F403
from eoi.operations.opening import *  # noqa: F401,F403
from eoi.operations.submissions import *  # noqa: F401,F403
