"""MallBots Workbook: event sourcing and CQRS on the MallBots application, over DuckDB."""

__version__ = "0.1.0"
