"""Fixtures of the analysis tests: simulated firings made once per session."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # helpers beside the tests (import mode is importlib)

from simfirings import Firings  # noqa: E402


@pytest.fixture(scope="session")
def firings(tmp_path_factory):
    return Firings(tmp_path_factory.mktemp("firings"))
