"""The references of the papers behind each rule, in one place (internal module).

The docs' "Citing" page is written from :data:`PAPERS`, and a test checks that every docstring
that names one of these papers uses its ``short`` form. Each entry was checked against the
paper's own text (title, authors, venue).
"""

from __future__ import annotations

from pathlib import Path
from typing import TypedDict

__all__ = ["PAPERS", "cite", "write_reference_list"]


class Paper(TypedDict):
    """One paper: the rule it backs, a one-line reference for docstrings, and its BibTeX."""

    rule: str
    short: str
    bibtex: str


PAPERS: dict[str, Paper] = {
    "bpsta": {
        "rule": "BPSA + BPTA (BPSTALeaky, surrogate.bpsa, Voting, metrics.energy)",
        "short": "G. Shen, D. Zhao, Y. Zeng. Backpropagation with biologically plausible "
                 "spatio-temporal adjustment for training deep spiking neural networks. "
                 "Patterns 3(6):100522, 2022",
        "bibtex": """@article{shen2022bpsta,
  title   = {Backpropagation with biologically plausible spatio-temporal adjustment for
             training deep spiking neural networks},
  author  = {Shen, Guobin and Zhao, Dongcheng and Zeng, Yi},
  journal = {Patterns},
  volume  = {3},
  number  = {6},
  pages   = {100522},
  year    = {2022},
  doi     = {10.1016/j.patter.2022.100522}
}""",
    },
    "msg": {
        "rule": "MSG + TWO (surrogate.masked, surrogate.piecewise_linear, MSGLeaky, TWO)",
        "short": "L. Yang, F. Zhao, D. Zhao, Y. Zeng. Directly training temporal spiking neural "
                 "network with sparse surrogate gradient. 2024",
        "bibtex": """@misc{yang2024msg,
  title  = {Directly training temporal spiking neural network with sparse surrogate gradient},
  author = {Yang, Li and Zhao, Feifei and Zhao, Dongcheng and Zeng, Yi},
  year   = {2024}
}""",
    },
    "asf": {
        "rule": "ASF (ASF, functional.asf_mse_loss, functional.signed_poisson, models.asf_lenet)",
        "short": "H. Wu, Y. Zhang, W. Weng, Y. Zhang, Z. Xiong, Z.-J. Zha, X. Sun, F. Wu. "
                 "Training spiking neural networks with accumulated spiking flow. AAAI 2021",
        "bibtex": """@inproceedings{wu2021asf,
  title     = {Training spiking neural networks with accumulated spiking flow},
  author    = {Wu, Hao and Zhang, Yueyi and Weng, Wenming and Zhang, Yongting and
               Xiong, Zhiwei and Zha, Zheng-Jun and Sun, Xiaoyan and Wu, Feng},
  booktitle = {Proceedings of the AAAI Conference on Artificial Intelligence},
  volume    = {35},
  pages     = {10320--10328},
  year      = {2021}
}""",
    },
    "ssl": {
        "rule": "Spike-sequence labels (PSPLeaky, functional.van_rossum_loss, "
                "functional.hamming_loss, functional.spike_train_targets)",
        "short": "Spiking sequence label-based spatio-temporal back-propagation algorithm for "
                 "training deep spiking neural networks. Journal of Electronics & Information "
                 "Technology (JEIT), 2024",
        "bibtex": """@article{jeit2024ssl,
  title   = {Spiking sequence label-based spatio-temporal back-propagation algorithm for
             training deep spiking neural networks},
  journal = {Journal of Electronics \\& Information Technology},
  year    = {2024}
}""",
    },
    "stbp": {
        "rule": "STBP, the baseline of every paper (surrogate.rectangular, models.stbp_cnn)",
        "short": "Y. Wu, L. Deng, G. Li, J. Zhu, L. Shi. Spatio-temporal backpropagation for "
                 "training high-performance spiking neural networks. Frontiers in Neuroscience "
                 "12:331, 2018",
        "bibtex": """@article{wu2018stbp,
  title   = {Spatio-temporal backpropagation for training high-performance spiking neural
             networks},
  author  = {Wu, Yujie and Deng, Lei and Li, Guoqi and Zhu, Jun and Shi, Luping},
  journal = {Frontiers in Neuroscience},
  volume  = {12},
  pages   = {331},
  year    = {2018},
  doi     = {10.3389/fnins.2018.00331}
}""",
    },
    "snntorch": {
        "rule": "snnTorch, the library every part plugs into",
        "short": "J. K. Eshraghian, M. Ward, E. O. Neftci, X. Wang, G. Lenz, G. Dwivedi, "
                 "M. Bennamoun, D. S. Jeong, W. D. Lu. Training spiking neural networks using "
                 "lessons from deep learning. Proceedings of the IEEE 111(9), 2023",
        "bibtex": """@article{eshraghian2023snntorch,
  title   = {Training spiking neural networks using lessons from deep learning},
  author  = {Eshraghian, Jason K. and Ward, Max and Neftci, Emre O. and Wang, Xinxin and
             Lenz, Gregor and Dwivedi, Girish and Bennamoun, Mohammed and Jeong, Doo Seok and
             Lu, Wei D.},
  journal = {Proceedings of the IEEE},
  volume  = {111},
  number  = {9},
  pages   = {1016--1054},
  year    = {2023}
}""",
    },
}


def cite(rule: str) -> str:
    """The BibTeX entry of the paper behind ``rule`` (a key of :data:`PAPERS`).

    Example::

        >>> from snntorch_ext._citations import cite
        >>> cite("asf").splitlines()[0]
        '@inproceedings{wu2021asf,'
    """
    if rule not in PAPERS:
        raise ValueError(f"rule must be one of {sorted(PAPERS)}, got {rule!r}")
    return PAPERS[rule]["bibtex"]


def write_reference_list(path: str | Path) -> None:
    """Write the reST list of every paper (rule, reference, BibTeX) that ``citing.rst`` includes.

    The file is rewritten only when its text changes, so Sphinx does not re-read the page.
    """
    lines = []
    for paper in PAPERS.values():
        lines += [f"**{paper['rule']}**", "", f"   {paper['short']}.", "",
                  "   .. code-block:: bibtex", ""]
        lines += [f"      {line}" for line in paper["bibtex"].splitlines()]
        lines.append("")
    text = "\n".join(lines)
    path = Path(path)
    if not path.is_file() or path.read_text() != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
