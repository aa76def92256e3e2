"""Shared fixtures: real DuckDB files in a temporary folder, never mocks."""

from __future__ import annotations

import shutil

import pytest

from mallbots import MallBots
from mallbots.es import Database
from tests.es_support import Bank
from tests.profiles import load_profile
from tests.shop_support import SEED, build_world

load_profile()


@pytest.fixture
def db(tmp_path):
    """A fresh database file."""
    database = Database.open(tmp_path / "test.duckdb")
    yield database
    database.close()


@pytest.fixture
def bank(db):
    """The bank test domain wired on a database file, snapshots every 3 events."""
    return Bank(db)


@pytest.fixture(scope="session")
def shop_template(tmp_path_factory):
    """A database file holding the small shop of ``tests.shop_support``, built once."""
    path = tmp_path_factory.mktemp("template") / "shop.duckdb"
    with MallBots.open(path, seed=SEED) as shop:
        world = build_world(shop)
    return path, world


@pytest.fixture
def shop_and_world(shop_template, tmp_path):
    """A fresh copy of the small shop on its own database file, with its ids."""
    template, world = shop_template
    path = tmp_path / "shop.duckdb"
    shutil.copy(template, path)
    shop = MallBots.open(path, seed=SEED)
    yield shop, world
    shop.close()


@pytest.fixture
def shop(shop_and_world):
    return shop_and_world[0]


@pytest.fixture
def world(shop_and_world):
    return shop_and_world[1]
