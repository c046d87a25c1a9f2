"""Shared fixtures: one offline data folder per test session (generated, never downloaded)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def data_root(tmp_path_factory: pytest.TempPathFactory):
    """A data root in which ``mnist_offline`` writes its IDX files once per session."""
    return tmp_path_factory.mktemp("data")
