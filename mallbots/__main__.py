"""``python -m mallbots``: the same command line as the ``mallbots`` script."""

import sys

from mallbots.cli import main

sys.exit(main())
