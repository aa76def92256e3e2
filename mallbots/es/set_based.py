"""Small SQL builders for set-based rebuilds over the log's ``events`` relation.

A set-based rebuild folds each aggregate's events with ``GROUP BY aggregate_id``. Two
questions come up in every such fold, and each has one builder here:

- "what did the last of these events say?": :func:`last`;
- "where in the log was the last of these events?": :func:`last_position`.

JSON is parsed only for the rows an expression is about (``CASE WHEN``), not for every
row of the group: that is most of the cost of a rebuild.
"""

from __future__ import annotations


def quoted(*names: str) -> str:
    """Names as a list of SQL string literals, for ``event_name IN (...)``."""
    return ", ".join("'" + name.replace("'", "''") + "'" for name in sorted(names))


def where_name(*names: str) -> str:
    """The condition "the event is one of ``names``"."""
    return f"event_name IN ({quoted(*names)})"


def last(expression: str, *names: str) -> str:
    """``expression`` (over ``event_data``) at the last of the group's ``names`` events."""
    condition = where_name(*names)
    return (
        f"arg_max(CASE WHEN {condition} THEN {expression} END, position) FILTER (WHERE {condition})"
    )


def last_position(*names: str) -> str:
    """The log position of the last of the group's ``names`` events (NULL if none)."""
    return f"max(position) FILTER (WHERE {where_name(*names)})"


def total(expression: str, *names: str) -> str:
    """The sum of ``expression`` over the group's ``names`` events (NULL if none)."""
    return f"sum(CASE WHEN {where_name(*names)} THEN {expression} END)"


def text(field: str) -> str:
    """A payload field as text."""
    return f"(event_data->>'{field}')"


def money(field: str) -> str:
    """A payload field (money as a JSON string) as the read models' exact DECIMAL."""
    return f"(event_data->>'{field}')::DECIMAL(18, 2)"


def last_since(expression: str, made: tuple[str, ...], *names: str) -> str:
    """:func:`last` of ``names``, but only from the last ``made`` event on (else NULL).

    A handler's ``put`` makes a row afresh and its ``update`` changes only a row that
    exists: events before the making one are forgotten. This is that rule for the fold.
    """
    return (
        f"CASE WHEN {last_position(*names)} >= {last_position(*made)} "
        f"THEN {last(expression, *names)} END"
    )


def last_mapped(mapping: dict[str, str]) -> str:
    """The value ``mapping`` gives the name of the last of the group's events it names."""
    cases = " ".join(f"WHEN '{name}' THEN '{value}'" for name, value in sorted(mapping.items()))
    return f"CASE {last('event_name', *mapping)} {cases} END"
