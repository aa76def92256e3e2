"""The command panel: fill fields, press run, and the panes show what the command did."""

from __future__ import annotations

import pytest

from mallbots.baskets import AddItem, CheckoutBasket, StartBasket
from mallbots.stores import CreateStore, IncreaseProductPrice
from mallbots.viz import CommandPanel, TableState


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
