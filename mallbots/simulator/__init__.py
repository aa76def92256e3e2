"""A seeded mall simulator: realistic activity through the shop's real aggregates.

>>> from mallbots.simulator import PRESETS, simulate
>>> shop, result = simulate(PRESETS["classroom"])  # doctest: +SKIP

:mod:`~.config` says what a run is made of, :mod:`~.activity` decides what happens,
:mod:`~.one_by_one` and :mod:`~.bulk` are the two ways to run it, :mod:`~.run` ties
them together with a seeded shop and a progress bar.
"""

from mallbots.simulator.activity import Activity, Step
from mallbots.simulator.config import PRESETS, SimulationConfig
from mallbots.simulator.run import SimulationResult, run_simulation, simulate, simulation_shop

__all__ = [
    "PRESETS",
    "Activity",
    "SimulationConfig",
    "SimulationResult",
    "Step",
    "run_simulation",
    "simulate",
    "simulation_shop",
]
