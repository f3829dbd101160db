"""The daq tests' helpers beside them (journaldata) are importable: the import mode is importlib."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
