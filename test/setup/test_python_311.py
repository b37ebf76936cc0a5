"""Setup's choice of Python 3.11 (scripts/lib.sh python311) on a machine whose python3 is another version:
the machine's or uv's own 3.11 when there is one, else a download, else an error that says what to install."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
UV = Path(os.environ.get("CLICKSTREAM_CACHE", Path.home() / ".cache/clickstream-pipeline")) / "uv-0.13.9/bin/uv"
OTHER_PYTHON = "3.12"


def other_python() -> Path | None:
    """An interpreter of another minor version than 3.11, as a machine with only that one would have."""
    for root in (Path.home() / ".pyenv/versions", Path("/usr/bin")):
        found = [*sorted(root.glob(f"{OTHER_PYTHON}*/bin/python{OTHER_PYTHON}")), *root.glob(f"python{OTHER_PYTHON}")]
        if found:
            return found[0]
    return None


def python311(tmp_path: Path, install_dir: Path, python311: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Runs python311 with a PATH that holds python3 of the other version, and python3.11 only if given."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python3").symlink_to(other_python())
    if python311 is not None:
        (bin_dir / "python3.11").symlink_to(python311)
    for tool in ("dirname", "mkdir"):  # what lib.sh runs when sourced
        (bin_dir / tool).symlink_to(shutil.which(tool))
    env = {
        "PATH": str(bin_dir),
        "HOME": os.environ["HOME"],
        "CLICKSTREAM_CACHE": str(UV.parents[2]),
        "UV_PYTHON_INSTALL_DIR": str(install_dir),
        # a mirror with nothing in it: the download fails at once, as it does offline
        "UV_PYTHON_INSTALL_MIRROR": (tmp_path / "empty-mirror").as_uri(),
    }
    script = f'source "{REPO}/scripts/lib.sh"; uv="{UV}"; python311'
    return subprocess.run(["/bin/bash", "-c", script], env=env, capture_output=True, text=True, timeout=120,
                          check=False)


needs_uv = pytest.mark.skipif(not UV.exists(), reason="setup installs uv first")
needs_other = pytest.mark.skipif(other_python() is None,
                                 reason=f"needs a Python {OTHER_PYTHON} to stand for the machine's")


@needs_uv
@needs_other
def test_a_machine_with_only_another_python_and_no_download_is_told_what_to_install(tmp_path: Path) -> None:
    result = python311(tmp_path, tmp_path / "managed")
    assert result.returncode == 1, result
    assert result.stdout == ""
    assert f"python3: Python {OTHER_PYTHON}" in result.stderr
    assert "installing uv's managed CPython 3.11" in result.stderr
    assert "error: Python 3.11 is required" in result.stderr
    assert "apt-get install python3.11 python3.11-venv" in result.stderr
    assert "UV_PYTHON_INSTALL_MIRROR" in result.stderr


@needs_uv
@needs_other
def test_a_python_311_beside_another_python3_is_found_and_nothing_is_downloaded(tmp_path: Path) -> None:
    result = python311(tmp_path, tmp_path / "managed", python311=Path(sys.base_prefix) / "bin/python3.11")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(tmp_path / "bin/python3.11")
    assert "installing" not in result.stderr
    assert not (tmp_path / "managed").exists()
