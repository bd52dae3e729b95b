"""`edgedeploy compile` (being built in this session; see the issue tracker)."""

from edgedeploy.errors import EdgedeployError

NAME = "compile"
NO_ARGS_IS_HELP = False


def command() -> int:
    """Not available yet."""
    raise EdgedeployError("'edgedeploy compile' is not available in this build yet")
