"""Shared fixtures: one offline data folder per test session (generated, never downloaded).

Tests marked ``gpu`` are skipped where CUDA is not available (``pytest -m gpu`` runs them alone).
"""

from __future__ import annotations

import pytest
import torch


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs CUDA (marked gpu)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def data_root(tmp_path_factory: pytest.TempPathFactory):
    """A data root in which ``mnist_offline`` writes its IDX files once per session."""
    return tmp_path_factory.mktemp("data")
