"""Command-line interface: ``crossings`` (also ``python -m geo``)."""

from geo.cli.main import cli

__all__ = ["cli"]
