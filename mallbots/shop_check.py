"""Check a whole shop file: every table it owns, and the rules its modules keep together.

:func:`check_shop` runs :func:`~mallbots.es.duckdb.check.check_database` on a shop's file
with what only the shop knows: which tables are its own (read whole, so a damaged
storage block anywhere is found), what to do when one cannot be read, and the rules
across modules that every committed command keeps. Each rule is one set-based query:

- a checked-out basket has its order (derived from the basket id), for the same
  customer and payment; and an order derived from a basket id has its checkout;
- an order has its shopping list, its confirmed payment of its customer, its
  customer, and a notification for each of its created, readied and cancelled events;
  a cancelled order's shopping list is cancelled; a readied order has an invoice;
- a paid invoice's order was completed with that invoice; an invoice's payment exists.

Not checked, because the shop does not promise it: that a completed order has a paid
invoice (``CompleteOrder`` is a command of its own: it needs the order's own invoice,
not a paid one), or that a
confirmed payment or a shopping list belongs to an order (``ConfirmPayment`` and
``CreateShoppingList`` may be run alone).

Before bulk runs went through every module's own services, the bulk simulator wrote
events and read models only, never the plain tables (customers, payments, depot,
notifications). A file whose plain tables are all empty while it holds orders was
filled so; the rules that read plain tables are then left out, and the report says so.
"""

from __future__ import annotations

import re
from dataclasses import replace

from mallbots.adapters import ORDERS_OF_BASKETS
from mallbots.app import SCHEMAS, shop_registry
from mallbots.es import Database
from mallbots.es.duckdb.check import CheckReport, Invariant, check_database
from mallbots.es.projector import CHECKPOINTS

OTHER_SCHEMAS = ("projections",)
"""Schemas the shop owns besides its modules' (the read models' checkpoints)."""

PLAIN_TABLES = (
    "customers.customers",
    "payments.payments",
    "payments.invoices",
    "depot.shopping_lists",
    "notifications.notifications",
)

BASKET_WITHOUT_ORDER = "checked-out basket without its order"
ORDER_WITHOUT_CHECKOUT = "basket order without its checkout"
ORDER_NOT_OF_BASKET = "order differs from its basket"
ORDER_WITHOUT_SHOPPING_LIST = "order without its shopping list"
CANCELLED_ORDER_LIST_OPEN = "cancelled order with an open shopping list"
ORDER_WITHOUT_PAYMENT = "order without its confirmed payment"
ORDER_WITHOUT_CUSTOMER = "order of an unknown customer"
ORDER_WITHOUT_NOTIFICATION = "order event without its notification"
READIED_ORDER_WITHOUT_INVOICE = "readied order without its invoice"
PAID_INVOICE_ORDER_OPEN = "paid invoice whose order is not completed"
INVOICE_WITHOUT_PAYMENT = "invoice without its payment"


def check_shop(database: Database) -> CheckReport:
    """Check every table of the shop in ``database`` and the rules across its modules."""
    tables = shop_tables(database)
    events = event_tables_of(tables)
    others = [table for table in tables if table not in events]
    invariants, notes = shop_invariants(database, tables)
    report = check_database(
        database,
        shop_registry(),
        events,
        read=others,
        invariants=invariants,
        remedies=remedies(database.path, tables),
    )
    report.notes[:0] = notes
    return report


EVENT_TABLE_NAMES = ("events", "events_archive")


def event_tables_of(tables: list[str]) -> list[str]:
    """The event tables (and archives) among ``tables``, in their order."""
    return [table for table in tables if table.rpartition(".")[2] in EVENT_TABLE_NAMES]


def shop_tables(database: Database) -> list[str]:
    """Every table in the shop's schemas, module by module (events first in each)."""
    schemas = [*SCHEMAS, *OTHER_SCHEMAS]
    rows = database.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema IN (SELECT unnest($1::VARCHAR[])) AND table_type = 'BASE TABLE' "
        "ORDER BY list_position($1, table_schema), "
        "list_position(['events', 'events_archive', 'snapshots'], table_name) NULLS LAST, "
        "table_name",
        [schemas],
    ).fetchall()
    # The shop names its tables plainly; any other name is not one of its own.
    return [f"{schema}.{name}" for schema, name in rows if PLAIN_NAME.match(name)]


PLAIN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def remedies(path: str, tables: list[str]) -> dict[str, str]:
    """What to do about each table if it cannot be read."""
    found = {}
    for table in tables:
        name = table.rpartition(".")[2]
        if name == "snapshots":
            found[table] = (
                "snapshots are a cache: loads replay the events instead; to write them "
                f"afresh from the events, run: mallbots rebuild --snapshots --db {path}"
            )
        elif table == CHECKPOINTS:
            found[table] = (
                "it holds how far each read model has read, and the shop cannot open "
                "without it: restore the file from a backup"
            )
        elif table in PLAIN_TABLES or name in EVENT_TABLE_NAMES:
            found[table] = (
                "nothing else holds these rows: restore the file from a backup, or copy "
                "out the tables that can still be read"
            )
        else:  # read models and their checkpoints
            found[table] = (
                "it is built from the events: to build it afresh, run: "
                f"mallbots rebuild --db {path}"
            )
    return found


# --- the rules -------------------------------------------------------------------------------


def shop_invariants(database: Database, tables: list[str]) -> tuple[list[Invariant], list[str]]:
    """The rules that apply to this file, and notes on the ones left out."""
    present = set(tables)
    logs = {
        schema: [f"{schema}.{name}" for name in EVENT_TABLE_NAMES if f"{schema}.{name}" in present]
        for schema in ("baskets", "ordering")
    }
    if not logs["baskets"] or not logs["ordering"]:
        return [], ["rules across modules (the file has no baskets or no ordering events)"]
    baskets, orders = _events_of(logs["baskets"]), _events_of(logs["ordering"])
    rules = [
        _basket_without_order(baskets, orders),
        _order_without_checkout(baskets, orders),
        _order_not_of_basket(baskets, orders),
    ]
    notes = []
    missing = [table for table in PLAIN_TABLES if table not in present]
    if missing:
        notes.append(f"rules with plain tables ({', '.join(missing)} missing)")
    elif not _plain_tables_kept(database, orders):
        notes.append(
            "rules with customers, payments, depot and notifications (their tables are "
            "empty while the log holds orders: files simulated in bulk before every module was "
            "filled keep no plain rows)"
        )
    else:
        rules += _plain_rules(orders)
    reads = (*logs["baskets"], *logs["ordering"])
    return [replace(rule, tables=(*reads, *rule.tables)) for rule in rules], notes


def _events_of(tables: list[str]) -> str:
    """SQL for a module's events from its tables (archived ones included)."""
    columns = "'{table}' AS source, stream_name, stream_id, stream_version, position, "
    columns += "event_name, event_data"
    union = " UNION ALL ".join(
        f"SELECT {columns.format(table=table)} FROM {table}" for table in tables
    )
    return f"({union})"


def _plain_tables_kept(database: Database, orders: str) -> bool:
    (kept,) = database.execute(
        "SELECT NOT EXISTS (SELECT 1 FROM "
        + orders
        + ") OR "
        + " OR ".join(f"EXISTS (SELECT 1 FROM {table})" for table in PLAIN_TABLES)
    ).fetchone()
    return kept


def _uuid5(namespace_hex: str, column: str) -> str:
    """SQL for the SHA-1 of a ``uuid5(namespace, column)``: the ``h`` of :func:`_uuid_of`."""
    return f"sha1(unhex('{namespace_hex}') || encode({column}))"


def _uuid_of(h: str) -> str:
    """SQL for a version-5 UUID from its SHA-1 ``h``, as :func:`mallbots.es.ids.uuid5`."""
    return (
        f"substr({h}, 1, 8) || '-' || substr({h}, 9, 4) || '-5' || substr({h}, 14, 3) || '-' "
        f"|| substr('89ab', (strpos('0123456789abcdef', substr({h}, 17, 1)) - 1) % 4 + 1, 1) "
        f"|| substr({h}, 18, 3) || '-' || substr({h}, 21, 12)"
    )


def _order_ids_of(baskets_select: str) -> str:
    """Add ``order_id`` (derived from ``basket_id``) to a select of baskets."""
    return (
        f"(SELECT * EXCLUDE (h), {_uuid_of('h')} AS order_id FROM (SELECT *, "
        f"{_uuid5(ORDERS_OF_BASKETS.hex, 'basket_id')} AS h FROM {baskets_select}))"
    )


def _checkouts(baskets: str, fields: bool = True) -> str:
    """Every BasketCheckedOut with its derived order id; with ``fields``, only those whose
    data is JSON (the payload check names the others), with customer and payment."""
    return _order_ids_of(
        "(SELECT source, stream_id AS basket_id, stream_version, position"
        + (_fields("customer_id", "payment_id") if fields else "")
        + f" FROM {baskets} WHERE event_name = 'baskets.BasketCheckedOut'"
        + (" AND json_valid(event_data))" if fields else ")")
    )


def _created(orders: str, fields: bool = True) -> str:
    """Every OrderCreated; with ``fields``, as :func:`_checkouts`, with its shopping id."""
    return (
        "(SELECT source, stream_id AS order_id, stream_version, position"
        + (_fields("customer_id", "payment_id", "shopping_id") if fields else "")
        + f" FROM {orders} WHERE event_name = 'ordering.OrderCreated'"
        + (" AND json_valid(event_data))" if fields else ")")
    )


def _fields(*names: str) -> str:
    """Payload fields as columns (NULL where the data is not JSON: ``try``)."""
    return "".join(f", try(event_data->>'{name}') AS {name}" for name in names)


def _basket_without_order(baskets: str, orders: str) -> Invariant:
    return Invariant(
        BASKET_WITHOUT_ORDER,
        (),
        f"""
        SELECT c.source, 'baskets.Basket', c.basket_id, c.stream_version, c.position,
               'checked out at position ' || c.position || ', but ordering holds no '
               || 'OrderCreated for its order ' || c.order_id
               || ' (a command cut short: its checkout committed, its order not)'
        FROM {_checkouts(baskets, fields=False)} AS c
        ANTI JOIN {_created(orders, fields=False)} AS o USING (order_id)
        ORDER BY c.position
        """,
    )


def _order_without_checkout(baskets: str, orders: str) -> Invariant:
    every_basket = _order_ids_of(
        f"(SELECT stream_id AS basket_id FROM {baskets} WHERE event_name = 'baskets.BasketStarted')"
    )
    return Invariant(
        ORDER_WITHOUT_CHECKOUT,
        (),
        f"""
        SELECT o.source, 'ordering.Order', o.order_id, o.stream_version, o.position,
               'the order of basket ' || b.basket_id || ', created at position '
               || o.position || ', but that basket was never checked out'
        FROM {_created(orders, fields=False)} AS o
        JOIN {every_basket} AS b USING (order_id)
        ANTI JOIN {_checkouts(baskets, fields=False)} AS c USING (order_id)
        ORDER BY o.position
        """,
    )


def _order_not_of_basket(baskets: str, orders: str) -> Invariant:
    return Invariant(
        ORDER_NOT_OF_BASKET,
        (),
        f"""
        SELECT o.source, 'ordering.Order', o.order_id, o.stream_version, o.position,
               'basket ' || c.basket_id || ' was checked out by customer ' || c.customer_id
               || ' with payment ' || c.payment_id || ', its order names customer '
               || o.customer_id || ' and payment ' || o.payment_id
        FROM {_created(orders)} AS o
        JOIN {_checkouts(baskets)} AS c USING (order_id)
        WHERE o.customer_id IS DISTINCT FROM c.customer_id
           OR o.payment_id IS DISTINCT FROM c.payment_id
        ORDER BY o.position
        """,
    )


def _plain_rules(orders: str) -> list[Invariant]:
    created = _created(orders)
    order_events = f"""
        (SELECT source, stream_id AS order_id, stream_version, position, event_name,
                CASE event_name WHEN 'ordering.OrderCreated' THEN 'order_created'
                                WHEN 'ordering.OrderReadied' THEN 'order_ready'
                                ELSE 'order_canceled' END AS kind
         FROM {orders}
         WHERE event_name IN ('ordering.OrderCreated', 'ordering.OrderReadied',
                              'ordering.OrderCanceled'))
    """
    of_name = (
        "(SELECT source, stream_id AS order_id, stream_version, position, event_data "
        f"FROM {orders} WHERE event_name = '{{}}')"
    )
    return [
        Invariant(
            ORDER_WITHOUT_SHOPPING_LIST,
            ("depot.shopping_lists",),
            f"""
            SELECT o.source, 'ordering.Order', o.order_id, o.stream_version, o.position,
                   CASE WHEN s.id IS NULL
                        THEN 'its shopping list ' || o.shopping_id
                             || ' is not in depot.shopping_lists'
                        ELSE 'its shopping list ' || o.shopping_id || ' is for order '
                             || s.order_id END
            FROM {created} AS o
            LEFT JOIN depot.shopping_lists AS s ON s.id = o.shopping_id
            WHERE s.id IS NULL OR s.order_id <> o.order_id
            ORDER BY o.position
            """,
        ),
        Invariant(
            CANCELLED_ORDER_LIST_OPEN,
            ("depot.shopping_lists",),
            f"""
            SELECT x.source, 'ordering.Order', x.order_id, x.stream_version, x.position,
                   'cancelled at position ' || x.position || ', but its shopping list '
                   || s.id || ' is ' || s.status
            FROM {of_name.format("ordering.OrderCanceled")} AS x
            JOIN {created} AS o USING (order_id)
            JOIN depot.shopping_lists AS s ON s.id = o.shopping_id
            WHERE s.status <> 'canceled'
            ORDER BY x.position
            """,
        ),
        Invariant(
            ORDER_WITHOUT_PAYMENT,
            ("payments.payments",),
            f"""
            SELECT o.source, 'ordering.Order', o.order_id, o.stream_version, o.position,
                   CASE WHEN p.id IS NULL
                        THEN 'its payment ' || o.payment_id || ' is not in payments.payments'
                        WHEN p.status <> 'confirmed'
                        THEN 'its payment ' || o.payment_id || ' is ' || p.status
                             || ', not confirmed'
                        ELSE 'its payment ' || o.payment_id || ' is customer '
                             || p.customer_id || '''s, the order customer '
                             || o.customer_id || '''s' END
            FROM {created} AS o
            LEFT JOIN payments.payments AS p ON p.id = o.payment_id
            WHERE p.id IS NULL OR p.status <> 'confirmed' OR p.customer_id <> o.customer_id
            ORDER BY o.position
            """,
        ),
        Invariant(
            ORDER_WITHOUT_CUSTOMER,
            ("customers.customers",),
            f"""
            SELECT o.source, 'ordering.Order', o.order_id, o.stream_version, o.position,
                   'its customer ' || o.customer_id || ' is not in customers.customers'
            FROM {created} AS o
            ANTI JOIN customers.customers AS c ON c.id = o.customer_id
            ORDER BY o.position
            """,
        ),
        Invariant(
            ORDER_WITHOUT_NOTIFICATION,
            ("notifications.notifications",),
            f"""
            SELECT e.source, 'ordering.Order', e.order_id, e.stream_version, e.position,
                   e.event_name || ' at position ' || e.position || ', but no '
                   || e.kind || ' notification for it in notifications.notifications'
            FROM {order_events} AS e
            ANTI JOIN notifications.notifications AS n
                 ON n.order_id = e.order_id AND n.kind = e.kind
            ORDER BY e.position
            """,
        ),
        Invariant(
            READIED_ORDER_WITHOUT_INVOICE,
            ("payments.invoices",),
            f"""
            SELECT x.source, 'ordering.Order', x.order_id, x.stream_version, x.position,
                   'readied at position ' || x.position
                   || ', but payments.invoices holds no invoice for it'
            FROM {of_name.format("ordering.OrderReadied")} AS x
            ANTI JOIN payments.invoices AS i ON i.order_id = x.order_id
            ORDER BY x.position
            """,
        ),
        Invariant(
            PAID_INVOICE_ORDER_OPEN,
            ("payments.invoices",),
            f"""
            SELECT 'payments.invoices', 'invoice', i.id, NULL, NULL,
                   'paid, but its order ' || i.order_id
                   || ' was not completed with it (no OrderCompleted naming this invoice)'
            FROM payments.invoices AS i
            ANTI JOIN {of_name.format("ordering.OrderCompleted")} AS x
                 ON x.order_id = i.order_id AND try(x.event_data->>'invoice_id') = i.id
            WHERE i.status = 'paid'
            ORDER BY i.id
            """,
        ),
        Invariant(
            INVOICE_WITHOUT_PAYMENT,
            ("payments.invoices", "payments.payments"),
            """
            SELECT 'payments.invoices', 'invoice', i.id, NULL, NULL,
                   'its payment ' || i.payment_id || ' is not in payments.payments'
            FROM payments.invoices AS i
            ANTI JOIN payments.payments AS p ON p.id = i.payment_id
            ORDER BY i.id
            """,
        ),
    ]
