"""The stores module: one test per rule, and the mall and catalog read models."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mallbots.errors import InvalidInputError
from mallbots.money import MoneyError
from mallbots.stores import (
    AddProduct,
    CatalogProduct,
    CreateStore,
    DecreaseProductPrice,
    DisableParticipation,
    EnableParticipation,
    GetCatalog,
    GetParticipatingStores,
    GetProduct,
    GetStore,
    GetStores,
    IncreaseProductPrice,
    MallStore,
    RebrandProduct,
    RebrandStore,
    RemoveProduct,
)
from mallbots.stores.errors import (
    NotAPriceDecreaseError,
    NotAPriceIncreaseError,
    PriceUnchangedError,
    ProductAlreadyExistsError,
    ProductIsRemovedError,
    ProductNameIsBlankError,
    ProductNotFoundError,
    ProductPriceIsNegativeError,
    StoreAlreadyExistsError,
    StoreIsAlreadyNotParticipatingError,
    StoreIsAlreadyParticipatingError,
    StoreLocationIsBlankError,
    StoreNameIsBlankError,
    StoreNotFoundError,
)
from tests.shop_support import assert_refused

# --- stores -----------------------------------------------------------------------------------


def test_a_store_is_created_not_participating_and_shows_in_the_mall(shop):
    store_id = shop.execute(CreateStore("Teapot Corner", "Level 2", store_id="tea"))
    assert store_id == "tea"
    assert shop.execute(GetStore("tea")) == MallStore("tea", "Teapot Corner", "Level 2", False)
    assert shop.load("stores.Store", "tea").version == 1


@pytest.mark.parametrize(
    ("name", "location", "error", "text"),
    [
        ("", "Level 2", StoreNameIsBlankError, "the store name cannot be blank"),
        ("  ", "Level 2", StoreNameIsBlankError, "the store name cannot be blank"),
        ("Tea", "", StoreLocationIsBlankError, "the store location cannot be blank"),
        ("Tea", "\t", StoreLocationIsBlankError, "the store location cannot be blank"),
        (
            None,
            "Level 2",
            InvalidInputError,
            "invalid input: the store name must be text, not NoneType None",
        ),
    ],
)
def test_a_store_needs_a_name_and_a_location(shop, name, location, error, text):
    assert_refused(shop, CreateStore(name, location), error, text)


def test_a_store_id_is_taken_once(shop, world):
    assert_refused(
        shop,
        CreateStore("Again", "Level 3", store_id=world.store),
        StoreAlreadyExistsError,
        f"store {world.store!r} already exists",
    )


def test_enabling_an_enabled_store_is_refused(shop, world):
    assert_refused(
        shop,
        EnableParticipation(world.store),
        StoreIsAlreadyParticipatingError,
        "the store is already participating",
    )


def test_disabling_a_disabled_store_is_refused(shop, world):
    shop.execute(DisableParticipation(world.store))
    assert shop.execute(GetParticipatingStores()) == []
    assert_refused(
        shop,
        DisableParticipation(world.store),
        StoreIsAlreadyNotParticipatingError,
        "the store is already not participating",
    )


def test_participation_shows_in_the_mall(shop, world):
    tea = shop.execute(CreateStore("Teapot Corner", "Level 2"))
    assert [s.id for s in shop.execute(GetParticipatingStores())] == [world.store]
    shop.execute(EnableParticipation(tea))
    assert [s.name for s in shop.execute(GetParticipatingStores())] == [
        "Teapot Corner",
        "Waldorf Widgets",
    ]


def test_rebranding_renames_the_store_in_the_mall(shop, world):
    shop.execute(RebrandStore(world.store, "Wonder Widgets"))
    assert shop.execute(GetStore(world.store)).name == "Wonder Widgets"


def test_rebranding_to_a_blank_name_is_refused_unlike_the_book(shop, world):
    assert_refused(
        shop,
        RebrandStore(world.store, " "),
        StoreNameIsBlankError,
        "the store name cannot be blank",
    )


@pytest.mark.parametrize(
    "message",
    [EnableParticipation("nowhere"), DisableParticipation("nowhere"), RebrandStore("nowhere", "X")],
)
def test_commands_on_an_unknown_store_are_refused(shop, message):
    assert_refused(shop, message, StoreNotFoundError, "store 'nowhere' not found")


@pytest.mark.parametrize("query", [GetStore("nowhere"), GetCatalog("nowhere")])
def test_queries_on_an_unknown_store_are_refused(shop, query):
    with pytest.raises(StoreNotFoundError, match="store 'nowhere' not found"):
        shop.execute(query)


# --- products ---------------------------------------------------------------------------------


def test_a_product_is_added_to_the_catalog_with_an_exact_price(shop, world):
    product_id = shop.execute(AddProduct(world.store, "Sprocket", 4, "Fine", "S-1", "sprocket"))
    assert shop.execute(GetProduct(product_id)) == CatalogProduct(
        "sprocket", world.store, "Sprocket", "Fine", "S-1", Decimal("4.00")
    )
    assert [p.name for p in shop.execute(GetCatalog(world.store))] == [
        "Gadget",
        "Sprocket",
        "Widget",
    ]


@pytest.mark.parametrize(
    ("name", "price", "error", "text"),
    [
        ("", "1.00", ProductNameIsBlankError, "the product name cannot be blank"),
        ("Sprocket", "-0.01", ProductPriceIsNegativeError, "the product price cannot be negative"),
        (
            "Sprocket",
            1.5,
            MoneyError,
            "invalid money: the product price must be a Decimal, an int or a string like '9.99', "
            "not float 1.5",
        ),
        (
            "Sprocket",
            "1.005",
            MoneyError,
            "invalid money: the product price '1.005' has more than 2 decimal places",
        ),
    ],
)
def test_a_product_needs_a_name_and_a_price_that_is_not_negative(
    shop, world, name, price, error, text
):
    assert_refused(shop, AddProduct(world.store, name, price), error, text)


def test_a_product_of_an_unknown_store_is_refused(shop):
    assert_refused(
        shop,
        AddProduct("nowhere", "Sprocket", "1"),
        StoreNotFoundError,
        "store 'nowhere' not found",
    )


def test_a_product_id_is_taken_once(shop, world):
    assert_refused(
        shop,
        AddProduct(world.store, "Again", "1", product_id=world.widget),
        ProductAlreadyExistsError,
        f"product {world.widget!r} already exists",
    )


def test_rebranding_a_product_changes_name_and_description(shop, world):
    shop.execute(RebrandProduct(world.widget, "Widget Pro", "Now with more widget"))
    product = shop.execute(GetProduct(world.widget))
    assert (product.name, product.description) == ("Widget Pro", "Now with more widget")


def test_rebranding_only_the_name_keeps_the_description(shop, world):
    before = shop.execute(GetProduct(world.widget)).description
    shop.execute(RebrandProduct(world.widget, "Widget Pro"))
    product = shop.execute(GetProduct(world.widget))
    assert (product.name, product.description) == ("Widget Pro", before)
    assert before  # the fixture's widget has one to lose
    shop.execute(RebrandProduct(world.widget, "Widget Pro", ""))  # cleared only when asked
    assert shop.execute(GetProduct(world.widget)).description == ""


def test_rebranding_a_product_to_a_blank_name_is_refused_unlike_the_book(shop, world):
    assert_refused(
        shop,
        RebrandProduct(world.widget, ""),
        ProductNameIsBlankError,
        "the product name cannot be blank",
    )


def test_price_changes_move_the_catalog_price_exactly(shop, world):
    shop.execute(IncreaseProductPrice(world.widget, "10.10"))
    shop.execute(DecreaseProductPrice(world.widget, "9.80"))
    assert shop.execute(GetProduct(world.widget)).price == Decimal("9.80")
    assert shop.load("stores.Product", world.widget).price == Decimal("9.80")
    deltas = shop.stream_frame("stores.Product", world.widget)["event_data"].tolist()[1:]
    assert deltas == ['{"delta":"0.11"}', '{"delta":"-0.30"}']


def test_an_increase_that_lowers_the_price_is_refused(shop, world):
    assert_refused(
        shop,
        IncreaseProductPrice(world.widget, "9.98"),
        NotAPriceIncreaseError,
        "the price change would be a decrease",
    )


def test_a_decrease_that_raises_the_price_is_refused(shop, world):
    assert_refused(
        shop,
        DecreaseProductPrice(world.widget, "10.00"),
        NotAPriceDecreaseError,
        "the price change would be an increase",
    )


@pytest.mark.parametrize("change", [IncreaseProductPrice, DecreaseProductPrice])
def test_a_price_change_to_the_same_price_is_refused(shop, world, change):
    assert_refused(
        shop,
        change(world.widget, "9.99"),
        PriceUnchangedError,
        "the price change would leave the price as it is: it is already 9.99",
    )


def test_a_decrease_below_zero_is_refused(shop, world):
    assert_refused(
        shop,
        DecreaseProductPrice(world.widget, "-1"),
        ProductPriceIsNegativeError,
        "the product price cannot be negative",
    )


def test_a_removed_product_leaves_the_catalog(shop, world):
    shop.execute(RemoveProduct(world.gadget))
    assert [p.id for p in shop.execute(GetCatalog(world.store))] == [world.widget]
    assert_refused(
        shop, GetProduct(world.gadget), ProductNotFoundError, f"product {world.gadget!r} not found"
    )
    assert shop.load("stores.Product", world.gadget).removed


@pytest.mark.parametrize(
    "change",
    [
        lambda id: RemoveProduct(id),
        lambda id: RebrandProduct(id, "Back"),
        lambda id: IncreaseProductPrice(id, "3.00"),
        lambda id: DecreaseProductPrice(id, "2.00"),
    ],
    ids=["remove", "rebrand", "increase", "decrease"],
)
def test_every_command_on_a_removed_product_is_refused(shop, world, change):
    shop.execute(RemoveProduct(world.gadget))
    assert_refused(
        shop, change(world.gadget), ProductIsRemovedError, "the product has been removed"
    )


@pytest.mark.parametrize(
    "message",
    [
        RebrandProduct("nothing", "X"),
        IncreaseProductPrice("nothing", "1"),
        DecreaseProductPrice("nothing", "1"),
        RemoveProduct("nothing"),
        GetProduct("nothing"),
    ],
)
def test_commands_on_an_unknown_product_are_refused(shop, message):
    assert_refused(shop, message, ProductNotFoundError, "product 'nothing' not found")


def test_the_stores_query_lists_every_store_by_name(shop, world):
    shop.execute(CreateStore("Antiques", "Level 0", store_id="antiques"))
    assert shop.execute(GetStores()) == [
        MallStore("antiques", "Antiques", "Level 0", False),
        MallStore(world.store, "Waldorf Widgets", "Level 1", True),
    ]
