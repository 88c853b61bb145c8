"""The two commands, the conda file and CI stay in step."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"python-duckdb": "duckdb"}


def _name(req: str) -> str:
    return re.split(r"[<>=!~\[ ]", req.strip(), maxsplit=1)[0].lower()


def test_environment_yml_matches_pyproject():
    py = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = {_name(r): r for r in py["dependencies"] + py["optional-dependencies"]["test"]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    conda = {}
    for dep in env["dependencies"]:
        if isinstance(dep, str) and not dep.startswith(("python", "pip")) or dep == "python-duckdb":
            conda[CONDA_NAMES.get(_name(dep), _name(dep))] = dep
        elif isinstance(dep, str) and dep.startswith("python-"):
            conda[CONDA_NAMES.get(_name(dep), _name(dep))] = dep
    assert set(conda) == set(wanted), f"only in pyproject: {set(wanted) - set(conda)}; only in environment.yml: {set(conda) - set(wanted)}"
    for name, req in wanted.items():  # same lower bounds
        lo = re.search(r">=([\d.]+)", req)
        assert lo and lo.group(0) in conda[name], f"{name}: pyproject says {req}, environment.yml says {conda[name]}"


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in readme and "make demo" in readme
    commands = [ln.strip() for ln in ci.splitlines() if ln.strip() and not ln.startswith("#")]
    assert commands[-1] == "make test"


def test_makefile_creates_the_venv_when_missing():
    mk = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "-m venv" in mk and re.search(r"^demo: setup", mk, re.M) and re.search(r"^test: setup", mk, re.M)


def test_console_script_and_licence():
    py = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert py["scripts"]["flamekit"] == "helpers.cli:main"
    assert "MIT" in (ROOT / "LICENSE").read_text(encoding="utf-8")


def test_notebooks_are_committed_without_outputs():
    import nbformat

    for nb_path in (ROOT / "notebooks").glob("*.ipynb"):
        nb = nbformat.read(nb_path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, f"{nb_path.name} has outputs"
        first_code = next(c for c in nb.cells if c.cell_type == "code")
        assert "parameters" in first_code.metadata.get("tags", []), f"{nb_path.name}: first code cell not tagged"


def test_every_parameter_is_readable_by_papermill():
    """papermill silently skips a parameter line it cannot parse (e.g. '=' in the comment)."""
    import nbformat
    import papermill as pm

    for nb_path in (ROOT / "notebooks").glob("*.ipynb"):
        nb = nbformat.read(nb_path, as_version=4)
        cell = next(c for c in nb.cells if c.cell_type == "code")
        names = {m.group(1) for m in re.finditer(r"^(\w+)\s*(?::[^=]+)?=", cell.source, re.M)}
        params = pm.inspect_notebook(str(nb_path))
        assert set(params) == names, f"{nb_path.name}: papermill reads {sorted(params)}, cell sets {sorted(names)}"
        assert all(p["help"] for p in params.values()), f"{nb_path.name}: every parameter needs a comment"
