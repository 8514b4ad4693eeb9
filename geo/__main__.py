"""Run the command-line interface: ``python -m geo``."""

from geo.cli import cli

cli(prog_name="crossings")
