"""Hypothesis profiles: ``dev`` (the default, quick) and ``ci`` (more examples).

``.ci/run`` exports ``HYPOTHESIS_PROFILE=ci``; ``pytest --hypothesis-profile=ci`` does the
same by hand. A property whose examples are costly (a whole shop each) asks
:func:`examples` how many to run, so it stays quick locally and thorough in CI.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

PROFILE_VARIABLE = "HYPOTHESIS_PROFILE"

settings.register_profile("dev")
settings.register_profile("ci", print_blob=True, suppress_health_check=[HealthCheck.too_slow])


def load_profile() -> str:
    """Load the profile the environment names (``dev`` unless told); returns its name."""
    name = os.environ.get(PROFILE_VARIABLE, "dev")
    settings.load_profile(name)
    return name


def examples(dev: int, ci: int) -> int:
    """How many examples a costly property runs under the profile loaded now."""
    return ci if settings.get_current_profile_name() == "ci" else dev
