"""`edgedeploy models` (being built in this session)."""

from edgedeploy.errors import EdgedeployError

NAME = "models"
NO_ARGS_IS_HELP = False


def command() -> int:
    """Not available yet."""
    raise EdgedeployError("not available yet")
