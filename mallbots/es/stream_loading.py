"""Loading one stream from an event store, the part both backends share.

A store checks the stream key and the version window, selects the rows that may be the
stream's (its own SQL, :meth:`StreamLoading._stream_columns`), and the rows are cut to
the window, checked for gaps and decoded here, the same way on DuckDB and PostgreSQL.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from mallbots.es.decoding import decode_stream_columns
from mallbots.es.event_rows import StreamKey, checked_after_version
from mallbots.es.events import AggregateEvent
from mallbots.es.registry import Registry


class StreamLoading(ABC):
    """Part of an event store: :meth:`load_stream` over the backend's stream select."""

    registry: Registry

    @abstractmethod
    def _checked_key(self, stream_name: str, stream_id: str) -> StreamKey:
        """The stream key, if this database can hold it."""

    @abstractmethod
    def _stream_columns(self, stream_name: str, stream_id: str, after_version: int) -> list[list]:
        """The columns of the rows that may be the stream's (at least those after
        ``after_version``): those of :data:`~mallbots.es.decoding.STREAM_EVENT_COLUMNS`,
        then the stream name."""

    def load_stream(
        self,
        stream_name: str,
        stream_id: str,
        after_version: int = 0,
        to_version: int | None = None,
    ) -> list[AggregateEvent]:
        """The events of one stream after ``after_version`` (up to ``to_version``), in order.

        A missing version in the stored sequence is reported as corruption.
        """
        self._checked_key(stream_name, stream_id)
        checked_after_version(after_version)
        columns = self._stream_columns(stream_name, stream_id, after_version)
        return decode_stream_columns(
            columns, self.registry, stream_name, stream_id, after_version, to_version
        )
