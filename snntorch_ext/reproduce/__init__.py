r"""From finished runs to the comparison with the papers: seeds, reports, the reproduction page.

``snntorch-ext train RECIPE --seeds 0,1,2`` trains one run per seed (:func:`train_seeds`);
``snntorch-ext report RUNS_DIR`` writes ``report.md`` and ``report.html`` (:func:`write_report`)
with every run below the folder next to the paper's figure of its recipe (``paper_value``);
``snntorch-ext report --docs`` writes the "Reproducing the papers" page from the results files
in ``docs/results/``; ``snntorch-ext effects`` runs the CPU protocols that test each paper's
central claim with seeds (:data:`~snntorch_ext.reproduce.protocols.PROTOCOLS`,
:func:`run_protocol`).
Over repeated runs the spread is the sample standard deviation:

.. math:: s = \sqrt{\tfrac{1}{n - 1}\textstyle\sum_k (a_k - \bar a)^2}

Example::

    >>> import snntorch_ext as snx
    >>> snx.reproduce.mean_sd([90.0, 94.0])
    (92.0, 2.828427124746)
"""

from .docs_page import docs_page, save_results, write_docs_page
from .effects import Arm, Protocol, run_protocol
from .protocols import PROTOCOLS
from .report import report_rows, write_report
from .runs import ReportError, Run, RunGroup, find_runs, group_runs, mean_sd
from .seeds import parse_seeds, seed_summary, train_seeds
from .sweeps import SWEEPS, Sweep, SweepPlot, sweep_plots

__all__ = ["PROTOCOLS", "SWEEPS", "Arm", "Protocol", "ReportError", "Run", "RunGroup", "Sweep",
           "SweepPlot", "docs_page", "find_runs", "group_runs", "mean_sd",
           "parse_seeds", "report_rows", "run_protocol", "save_results", "seed_summary",
           "sweep_plots", "train_seeds", "write_docs_page", "write_report"]
