"""The Store aggregate: a shop in the mall that may take part in automated shopping."""

from __future__ import annotations

from typing import Any

from mallbots.errors import require_text
from mallbots.es import Aggregate, AggregateEvent
from mallbots.es.lifetimes import LONG_LIVED, Lifetime
from mallbots.stores.errors import (
    StoreAlreadyExistsError,
    StoreIsAlreadyNotParticipatingError,
    StoreIsAlreadyParticipatingError,
    StoreLocationIsBlankError,
    StoreNameIsBlankError,
    StoreNotFoundError,
)
from mallbots.stores.events import (
    STORE_CREATED,
    STORE_PARTICIPATION_DISABLED,
    STORE_PARTICIPATION_ENABLED,
    STORE_REBRANDED,
    StoreCreated,
    StoreParticipationToggled,
    StoreRebranded,
)
from mallbots.stores.snapshots import StoreV1


class Store(Aggregate):
    """A store: a name, a location, and whether it participates in automated shopping."""

    NAME = "stores.Store"
    LIFETIME = Lifetime(LONG_LIVED)

    def __init__(self, id: str, **kwargs: Any) -> None:
        super().__init__(id, **kwargs)
        self.name = ""
        self.location = ""
        self.participating = False

    # --- commands --------------------------------------------------------------------------

    def create(self, name: str, location: str) -> None:
        """Open the store. Name and location must not be blank."""
        if self.pending_version:
            raise StoreAlreadyExistsError(self.id)
        require_text(name, "store name", StoreNameIsBlankError)
        require_text(location, "store location", StoreLocationIsBlankError)
        self.record(STORE_CREATED, StoreCreated(name=name, location=location))

    def enable_participation(self) -> None:
        """Take part in automated shopping; refused if it already does."""
        self._require_created()
        if self.participating:
            raise StoreIsAlreadyParticipatingError()
        self.record(STORE_PARTICIPATION_ENABLED, StoreParticipationToggled(participating=True))

    def disable_participation(self) -> None:
        """Stop taking part in automated shopping; refused if it already does not."""
        self._require_created()
        if not self.participating:
            raise StoreIsAlreadyNotParticipatingError()
        self.record(STORE_PARTICIPATION_DISABLED, StoreParticipationToggled(participating=False))

    def rebrand(self, name: str) -> None:
        """Change the store's name (the book lets it go blank; this does not)."""
        self._require_created()
        require_text(name, "store name", StoreNameIsBlankError)
        self.record(STORE_REBRANDED, StoreRebranded(name=name))

    def _require_created(self) -> None:
        if not self.pending_version:
            raise StoreNotFoundError(self.id)

    # --- state -----------------------------------------------------------------------------

    def apply(self, event: AggregateEvent) -> None:
        match event.payload:
            case StoreCreated(name=name, location=location):
                self.name = name
                self.location = location
            case StoreParticipationToggled(participating=participating):
                self.participating = participating
            case StoreRebranded(name=name):
                self.name = name
            case _:
                raise TypeError(f"{self.NAME} cannot apply {event.name}")

    def to_snapshot(self) -> StoreV1:
        return StoreV1(name=self.name, location=self.location, participating=self.participating)

    def apply_snapshot(self, snapshot: Any) -> None:
        match snapshot:
            case StoreV1():
                self.name = snapshot.name
                self.location = snapshot.location
                self.participating = snapshot.participating
            case _:
                raise TypeError(f"{self.NAME} cannot restore from {type(snapshot).__name__}")
