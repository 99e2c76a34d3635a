"""Shared fixtures of the Python package's tests: the CLI binary they compare against and the
repository root. Run by ctest (python_package) with TVK_BINARY set to this build's tvk."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _find_cli():
    candidates = [os.environ.get("TVK_BINARY"), ROOT / "build" / "tvk", ROOT / "build-py" / "tvk",
                  shutil.which("tvk")]
    for c in candidates:
        if c and Path(c).is_file() and os.access(c, os.X_OK):
            return str(c)
    return None


@pytest.fixture(scope="session")
def cli():
    path = _find_cli()
    if path is None:
        pytest.skip("no tvk binary (set TVK_BINARY or build into build/)")

    def run(*args, input=None, check=True):
        done = subprocess.run([path, *map(str, args)], input=input, capture_output=True, text=True)
        if check and done.returncode != 0:
            raise AssertionError(f"tvk {' '.join(map(str, args))}: {done.returncode}\n{done.stderr}")
        return done

    return run


@pytest.fixture(scope="session")
def root():
    return ROOT
