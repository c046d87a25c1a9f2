"""``python -m snntorch_ext`` runs the command line (see :mod:`snntorch_ext.cli`)."""

from .cli import run

run()
