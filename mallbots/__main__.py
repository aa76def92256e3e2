"""``python -m mallbots``: the same command line as the ``mallbots`` script."""

import sys


def _caused_by_ctrl_c(error: BaseException | None) -> bool:
    """Whether a KeyboardInterrupt is ``error`` or behind it (an extension that was
    loading when Ctrl-C came may raise ImportError from it)."""
    while error is not None:
        if isinstance(error, KeyboardInterrupt):
            return True
        error = error.__cause__ or error.__context__
    return False


try:
    from mallbots.cli import main
except BaseException as error:  # Ctrl-C while the libraries load: nothing was opened yet
    if not _caused_by_ctrl_c(error):
        raise
    print("mallbots: error: interrupted before anything was opened", file=sys.stderr)
    sys.exit(130)

sys.exit(main())
