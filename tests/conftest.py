import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

RIGS = Path(__file__).resolve().parent.parent / "rigs"


@pytest.fixture
def rigs_dir() -> Path:
    return RIGS
