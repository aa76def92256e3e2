"""The project's own files must agree on what it needs."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _requirement_name(spec: str) -> str:
    return re.split(r"[<>=!~\[ ;]", spec.strip(), maxsplit=1)[0].lower()


def pyproject_requirements(extras: tuple[str, ...] = ("lab", "test", "teach")) -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"])
    for extra in extras:
        specs += project["optional-dependencies"][extra]
    return {_requirement_name(s): s.replace(" ", "") for s in specs}


def environment_requirements(path: Path = ROOT / "environment.yml") -> dict[str, str]:
    specs = []
    in_pip = False
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if stripped == "- pip:":
            in_pip = True
            continue
        if in_pip and stripped.startswith("- ") and not stripped.startswith("- -e"):
            specs.append(stripped[2:])
    return {_requirement_name(s): s.replace(" ", "") for s in specs}


def test_environment_yml_and_pyproject_name_the_same_dependencies():
    assert environment_requirements() == pyproject_requirements()


def test_the_python_floor_agrees():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"].startswith(">=3.11")
    assert "python>=3.11" in (ROOT / "environment.yml").read_text()
    assert "3, 11" in (ROOT / "Makefile").read_text()


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme and "make lab" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_nbval_is_strict():
    for name in ("Makefile", "pyproject.toml", ".ci/run"):
        assert "--nbval-lax" not in (ROOT / name).read_text()
    assert "--nbval " in (ROOT / "Makefile").read_text()


def test_binder_installs_what_the_notebooks_need_and_no_more():
    """repo2docker reads binder/: the runtime dependencies and the lab extra, nothing else."""
    assert environment_requirements(ROOT / "binder" / "environment.yml") == (
        pyproject_requirements(extras=("lab",))
    )


def test_binder_names_a_python_version_repo2docker_parses_and_the_package_allows():
    text = (ROOT / "binder" / "environment.yml").read_text()
    pinned = re.findall(r"^\s*- python=(\d+)\.(\d+)\s*$", text, flags=re.MULTILINE)
    assert len(pinned) == 1, "binder/environment.yml needs one `- python=3.X` line"
    floor = re.search(
        r">=(\d+)\.(\d+)",
        tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"],
    )
    assert tuple(map(int, pinned[0])) >= tuple(map(int, floor.groups()))


def test_binder_post_build_installs_the_package():
    post_build = ROOT / "binder" / "postBuild"
    assert os.access(post_build, os.X_OK), "binder/postBuild must be executable (chmod +x)"
    lines = [line.strip() for line in post_build.read_text().splitlines()]
    assert lines[0].startswith("#!") and "set -euo pipefail" in lines
    assert any(re.fullmatch(r"python -m pip install .*(\s\.|\s-e \.)", line) for line in lines)


def test_the_postgres_extra_is_tested_and_required_in_ci():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = extras["optional-dependencies"]
    assert set(extras["postgres"]) <= set(extras["test"])
    ci = (ROOT / ".ci" / "run").read_text()
    assert "MALLBOTS_REQUIRE_POSTGRES=1" in ci and "install -y -qq postgresql" in ci
