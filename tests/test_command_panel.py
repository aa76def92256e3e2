"""The command panel: fill fields, press run, and the panes show what the command did."""

from __future__ import annotations

import dataclasses
import html
import json
import typing
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mallbots import MallBots
from mallbots.baskets import AddItem, CheckoutBasket, StartBasket
from mallbots.errors import DomainError
from mallbots.ordering import CancelOrder
from mallbots.payments import AuthorizePayment
from mallbots.stores import CreateStore, IncreaseProductPrice
from mallbots.viz import ChangeTracker, CommandPanel, TableState
from mallbots.viz.changes import TableShape
from mallbots.viz.widgets import ID_SOURCES, newest_ids
from mallbots.workbook import small_mall


def choose(panel: CommandPanel, command: type, **values) -> None:
    panel.command.value = command
    for name, value in values.items():
        panel.inputs[name].value = value


def test_the_panel_offers_the_commands_whose_fields_it_can_fill(shop):
    panel = CommandPanel(shop)
    names = [label for label, _ in panel.command.options]
    assert "CreateStore" in names and "CheckoutBasket" in names and "PayInvoice" in names
    assert "CreateOrder" not in names  # its items are not a field one can type
    assert not [name for name in names if name.startswith("Get")]
    assert repr(panel) == f"CommandPanel({len(names)} commands; selected {names[0]})"
    assert panel._repr_mimebundle_()["text/plain"] == repr(panel)
    with pytest.raises(ValueError, match="none of these commands"):
        CommandPanel(shop, [])  # an empty choice is not "every command"


def test_running_a_command_shows_its_events_and_the_rows_it_added(shop):
    panel = CommandPanel(shop, [CreateStore, StartBasket])
    assert list(panel.inputs) == ["name", "location", "store_id"]
    choose(panel, CreateStore, name="Bits & Bobs", location="Level 3", store_id="bits")
    head = shop.log.head()
    panel.run_button.click()
    assert panel.error is None and panel.result == "bits"
    assert (
        "CreateStore ran" in panel.result_pane.value
        and "returned &#x27;bits&#x27;" in panel.result_pane.value
    )
    assert list(panel.new_events["event_name"]) == ["stores.StoreCreated"]
    assert list(panel.new_events["position"]) == [head + 1]
    assert "stores.StoreCreated" in panel.events_pane.value
    assert "new events</b> (1 row)" in panel.events_pane.value
    assert [change.table for change in panel.changes] == ["stores.stores", "reporting.store_sales"]
    assert panel.changes[0].frame[["change", "id", "name"]].values.tolist() == [
        ["added", "bits", "Bits & Bobs"]
    ]
    assert "stores.stores: 1 added" in panel.changes_pane.value


def test_a_refused_command_shows_the_rule_and_that_nothing_was_written(shop):
    panel = CommandPanel(shop)
    choose(panel, CreateStore, name="  ", location="Level 3")
    count = shop.log.count()
    panel.run_button.click()
    assert type(panel.error).__name__ == "StoreNameIsBlankError"
    assert "refused" in panel.result_pane.value
    assert "the store name cannot be blank" in panel.result_pane.value
    assert "Nothing was written" in panel.result_pane.value
    assert panel.events_pane.value == "<i>no new events</i>"
    assert panel.changes_pane.value == "<i>no rows changed</i>"
    assert shop.log.count() == count and panel.new_events.empty


def test_id_fields_suggest_known_ids_and_learn_new_ones(shop, world):
    panel = CommandPanel(shop)
    choose(panel, StartBasket, customer_id=world.customer, basket_id="basket-2")
    assert world.customer in panel.inputs["customer_id"].options
    panel.run()
    assert panel.result == "basket-2"
    choose(panel, AddItem, basket_id="basket-2", product_id=world.gadget, quantity=3)
    assert "basket-2" in panel.inputs["basket_id"].options
    assert panel.inputs["basket_id"].placeholder.startswith("one of 2 known ids")
    panel.run()
    assert panel.error is None
    assert '"quantity":3' in panel.new_events["event_data"].iloc[0]
    choose(panel, AddItem, basket_id="no-such-basket", product_id=world.gadget)
    panel.run()
    assert type(panel.error).__name__ == "BasketNotFoundError"


def test_a_checkout_shows_the_order_and_the_rows_of_every_module_it_touched(shop, world):
    panel = CommandPanel(shop)
    choose(panel, CheckoutBasket, basket_id=world.basket, payment_id=world.payment)
    panel.run()
    assert panel.error is None
    assert list(panel.new_events["event_name"]) == [
        "baskets.BasketCheckedOut",
        "ordering.OrderCreated",
    ]
    assert "…" in panel.events_pane.value  # the checkout's items, cut short
    changed = {change.table: change.counts() for change in panel.changes}
    assert changed["payments.payments"] == "1 changed"
    assert changed["depot.shopping_lists"] == "1 added"
    assert changed["notifications.notifications"] == "1 added"


def test_a_blank_optional_id_lets_the_shop_make_one_and_prices_are_text(shop, world):
    panel = CommandPanel(shop)
    choose(panel, IncreaseProductPrice, product_id=world.widget, price="10.49")
    panel.run()
    assert panel.error is None
    assert "stores.products: 1 changed" in panel.changes_pane.value
    choose(panel, IncreaseProductPrice, product_id=world.widget, price="9.99")
    panel.run()
    assert type(panel.error).__name__ == "NotAPriceIncreaseError"
    choose(panel, CreateStore, name="Nameless", location="Level 0", store_id="")
    assert panel.message() == CreateStore("Nameless", "Level 0", None)


def test_table_state_compares_rows_by_primary_key(shop, world):
    before = TableState(shop.database, ["stores.products"])
    shop.execute(IncreaseProductPrice(world.widget, "11.00"))
    (change,) = TableState(shop.database, ["stores.products"]).changes_since(before)
    assert change.frame[["change", "id"]].values.tolist() == [["changed", world.widget]]
    assert (
        TableState(shop.database, ["stores.products"]).changes_since(
            TableState(shop.database, ["stores.products"])
        )
        == []
    )


# --- what a click changed, found without reading every table ----------------------------


def every_table_changed_by(shop, run):
    """Run ``run()`` and compare every table before and after: the slow, sure answer."""
    tables = [table for table in shop.tables if not table.endswith(".events")]
    before = TableState(shop.database, tables)
    try:
        outcome = run()
    except DomainError as refusal:
        outcome = refusal
    return outcome, TableState(shop.database, tables).changes_since(before)


def as_rows(changes) -> dict[str, list]:
    return {
        change.table: sorted(map(repr, change.frame.itertuples(index=False))) for change in changes
    }


MONEY = ["0.50", "4.75", "12.00", "30.00"]


def any_command(data, shop, panel: CommandPanel):
    """A command the panel offers, its fields drawn from the ids the shop knows (or not)."""
    command = data.draw(st.sampled_from([c for _, c in panel.command.options]), label="command")
    hints = typing.get_type_hints(command)
    values = {}
    for field in dataclasses.fields(command):
        hint = hints[field.name]
        if field.name in ID_SOURCES:
            known = newest_ids(shop.database, ID_SOURCES[field.name], 50)
            values[field.name] = data.draw(st.sampled_from([*known, "nobody"]), label=field.name)
        elif hint is int:
            values[field.name] = data.draw(st.integers(0, 3), label=field.name)
        elif hint is str:
            values[field.name] = data.draw(st.sampled_from(["Neu", "Level 2", " "]))
        elif hint is typing.Any:
            values[field.name] = data.draw(st.sampled_from(MONEY), label=field.name)
        else:  # an optional id: the shop makes one
            values[field.name] = None
    return command(**values)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_the_tracker_finds_what_comparing_every_table_finds(data):
    shop = MallBots.in_memory(seed=3)
    small_mall(shop)
    panel = CommandPanel(shop)
    tracker = ChangeTracker(shop)
    for _ in range(10):
        message = any_command(data, shop, panel)
        outcome, everything = every_table_changed_by(shop, lambda m=message: tracker.run(m))
        if isinstance(outcome, DomainError):
            assert everything == [], f"{message} was refused yet changed rows"
        else:
            assert as_rows(outcome.changes) == as_rows(everything), message
            assert [c.table for c in outcome.changes] == [c.table for c in everything]
            assert outcome.compared_whole == [], message  # found by ids, not by reading all


def test_cancelling_an_order_finds_rows_named_only_by_other_rows(shop, world):
    # The cancellation's event names the order; the shopping list names the order
    # outside its key, and the store's sales row is named only by the order's lines.
    run = shop.execute
    run(AddItem(world.basket, world.widget, 2))
    payment = run(AuthorizePayment(world.customer, "500.00"))
    order = run(CheckoutBasket(world.basket, payment))
    tracker = ChangeTracker(shop)
    outcome, everything = every_table_changed_by(shop, lambda: tracker.run(CancelOrder(order)))
    tables = {change.table: change.counts() for change in outcome.changes}
    assert tables["depot.shopping_lists"] == "1 changed"
    assert tables["reporting.store_sales"] == "1 changed"
    assert tables["reporting.sales_lines"] == "1 changed"
    assert as_rows(outcome.changes) == as_rows(everything)
    assert outcome.compared_whole == []


def test_a_click_on_a_big_table_reads_only_the_rows_it_touched(shop, world):
    # Stores the panel never names: a tracker that read whole tables would list them
    # as unchanged rows it had to compare; here it must not even fetch them.
    for n in range(300):
        shop.execute(CreateStore(f"Store {n}", "Level 9", store_id=f"filler-{n}"))
    tracker = ChangeTracker(shop)
    fetched = []
    original = TableShape.keyed

    def counting(self, rows):
        rows = list(rows)
        fetched.append((self.table, len(rows)))
        return original(self, rows)

    TableShape.keyed = counting
    try:
        outcome = tracker.run(IncreaseProductPrice(world.widget, "10.49"))
    finally:
        TableShape.keyed = original
    assert [change.table for change in outcome.changes] == ["stores.products"]
    assert sum(count for table, count in fetched if table == "stores.stores") <= 2


def test_a_click_names_what_changed_in_one_line(shop, world):
    panel = CommandPanel(shop)
    choose(panel, IncreaseProductPrice, product_id=world.widget, price="10.49")
    panel.run()
    assert panel.what_changed() == (
        f"1 new event (ProductPriceIncreased to {world.widget}); rows: stores.products 1 changed."
    )
    assert panel.what_changed() in html.unescape(panel.result_pane.value)
    choose(panel, IncreaseProductPrice, product_id=world.widget, price="1.00")
    panel.run()
    assert panel.what_changed() == "nothing (refused)"


def test_a_new_panel_opens_clean(shop):
    panel = CommandPanel(shop)
    assert panel.result_pane.value == panel.events_pane.value == panel.changes_pane.value == ""
    assert panel.runs == 0 and panel.error is None


def test_a_click_rereads_only_the_suggestions_of_the_ids_it_made(shop, world):
    panel = CommandPanel(shop)
    choose(panel, CheckoutBasket, basket_id=world.basket, payment_id=world.payment)
    panel.run()
    assert panel._kinds_made() == {"order_id"}  # its basket and payment fields stay as they were
    choose(panel, StartBasket, customer_id=world.customer)
    panel.run()
    assert panel._kinds_made() == {"basket_id"}
    choose(panel, IncreaseProductPrice, product_id=world.widget, price="12.00")
    panel.run()
    assert panel._kinds_made() == set()


NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def displayed_panels(notebook: dict) -> list[dict[str, str]]:
    """The panes of every command panel a saved notebook shows, by class, as saved."""
    saved = notebook["metadata"].get("widgets", {})
    state = saved.get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    panels = []
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get("application/vnd.jupyter.widget-view+json")
            model = state.get(view["model_id"]) if view else None
            if model and "mallbots-command-panel" in model["state"].get("_dom_classes", []):
                children = [
                    state[c.removeprefix("IPY_MODEL_")]["state"] for c in model["state"]["children"]
                ]
                panels.append(
                    {
                        classes[0]: child.get("value", "")
                        for child in children
                        if (classes := child.get("_dom_classes"))
                    }
                )
    return panels


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_a_notebooks_command_panel_opens_clean(path):
    # Cells below a shown panel drive a second one: the shown one keeps no run of theirs.
    for panes in displayed_panels(json.loads(path.read_text())):
        assert panes["mallbots-result"] == "", f"{path.name}: the panel opens with a run shown"


def test_the_click_benchmark_times_each_command_bare_and_by_click(capsys):
    from benchmarks import command_panel

    rows = command_panel.main(["--preset", "classroom", "--rounds", "2", "--commands", "1"])
    assert [name for name, _, _ in rows] == ["change a product's price", "add an item", "check out"]
    assert all(bare > 0 and click > 0 for _, bare, click in rows)
    assert "difference" in capsys.readouterr().out


def test_the_tracker_indexes_the_columns_it_looks_rows_up_by():
    """A click finds an order's invoice, list and notifications by ``order_id``: without
    an index that is a scan of each table, before and after (+58 ms a checkout on the
    million-event mall; +38 ms with the indexes)."""
    shop = MallBots.in_memory(seed=3)
    small_mall(shop)
    ChangeTracker(shop)
    indexed = {
        (schema, table, sql.rpartition("(")[2].rstrip(");"))
        for schema, table, sql in shop.database.execute(
            "SELECT schema_name, table_name, sql FROM duckdb_indexes()"
        ).fetchall()
    }
    for lookup in [
        ("payments", "invoices", "order_id"),
        ("depot", "shopping_lists", "order_id"),
        ("notifications", "notifications", "order_id"),
    ]:
        assert lookup in indexed, f"{lookup} is not indexed: {sorted(indexed)}"
