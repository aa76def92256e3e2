"""``python -m mallbots``: the same command line as the ``mallbots`` script."""

import sys

try:
    from mallbots.cli import main
except KeyboardInterrupt:  # Ctrl-C while the libraries load: nothing was opened yet
    print("mallbots: error: interrupted before anything was opened", file=sys.stderr)
    sys.exit(130)

sys.exit(main())
