"""Benchmarks: MallBots on DuckDB beside the ``eventsourcing`` library on SQLite.

Run ``make bench`` (or ``python benchmarks/run.py --help``). One module per concept:

- :mod:`benchmarks.workloads`: the table of workloads, their sizes and targets;
- :mod:`benchmarks.timing`: alternating trials and their medians;
- :mod:`benchmarks.mallbots_side`, :mod:`benchmarks.peer_side`,
  :mod:`benchmarks.duckdb_floor`: each side's implementation of the workloads;
- :mod:`benchmarks.report`: the machine description and the printed tables;
- :mod:`benchmarks.run`: the command line.
"""
