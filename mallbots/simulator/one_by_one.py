"""The per-command path: every step is one ``shop.execute(command)``, as a notebook runs it.

Each command is its own transaction with every handler it reaches: read models,
checkout creating the order, payments, the depot, notifications. It is the reference
the bulk path is checked against, and slow on purpose: a few statements a command.
"""

from __future__ import annotations

from mallbots.app import MallBots
from mallbots.es import AggregateEvent, SteppingClock
from mallbots.simulator.activity import Step


class CommandRunner:
    """Runs steps through :meth:`MallBots.execute`, counting the events they record."""

    def __init__(self, shop: MallBots, clock: SteppingClock) -> None:
        self.shop = shop
        self.clock = clock
        self.events = 0
        shop.dispatcher.subscribe(self._count)

    def _count(self, event: AggregateEvent) -> None:
        self.events += 1

    def run(self, step: Step) -> None:
        """Move the clock to the step's moment and execute its command."""
        self.clock.advance_to(step.moment)
        self.shop.execute(step.command)

    def finish(self) -> None:
        """Nothing is left to write: each command committed as it ran."""

    def abort(self) -> None:
        """Nothing to undo: a refused command rolled itself back."""
