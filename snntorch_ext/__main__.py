"""``python -m snntorch_ext`` runs the command line (see :mod:`snntorch_ext.cli`)."""

from .cli import run

if __name__ == "__main__":  # importing the module (as doctest collection does) runs nothing
    run()
