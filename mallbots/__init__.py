"""MallBots Workbook: event sourcing and CQRS on the MallBots application, over DuckDB."""

__version__ = "0.1.0"

from mallbots.app import MallBots
from mallbots.errors import DomainError

__all__ = ["DomainError", "MallBots"]
