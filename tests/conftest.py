import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Kernels ("python3") and nbgrader's alembic are found through PATH: use this environment's.
os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


def pytest_collection_modifyitems(items):
    # Longest first, so the two xdist workers finish together instead of one waiting on a round trip.
    def weight(item):
        if "round_trip" in item.name:
            return 0
        return 1 if item.get_closest_marker("slow") else 2

    items.sort(key=weight)
