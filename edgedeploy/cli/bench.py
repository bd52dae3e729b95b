"""`edgedeploy bench` (being built in this session; see the issue tracker)."""

from edgedeploy.errors import EdgedeployError

NAME = "bench"
NO_ARGS_IS_HELP = False


def command() -> int:
    """Not available yet."""
    raise EdgedeployError("'edgedeploy bench' is not available in this build yet")
