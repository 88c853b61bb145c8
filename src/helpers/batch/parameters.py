"""Parameters of a notebook: read from its ``parameters`` cell, checked, injected as papermill does.
"""

from __future__ import annotations

import copy
import difflib
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .errors import ParameterError, ReportError
from .kernel import KERNEL_NAME

__all__ = [
    "check_parameters",
    "inject_parameters",
    "notebook_parameters",
]


#: Values the batch offers every notebook; each gets the ones its parameters cell declares.
BATCH_PARAMETERS = ("account_id", "wave", "waves", "store", "language")


# ---------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------
_TYPE_CHECKS = {
    "str": (lambda v: isinstance(v, str), "a string"),
    "int": (lambda v: isinstance(v, int) and not isinstance(v, bool), "a whole number"),
    "float": (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool), "a number"),
    "bool": (lambda v: isinstance(v, bool), "True or False"),
}


def notebook_parameters(notebook: str | Path) -> dict[str, dict[str, Any]]:
    """The parameters a notebook declares in its cell tagged ``parameters``.

    Parameters
    ----------
    notebook : path
        The ``.ipynb`` file.

    Returns
    -------
    dict
        name → {"name", "inferred_type_name", "default", "help"}, as
        :func:`papermill.inspect_notebook` gives them.

    Raises
    ------
    ReportError
        No file at ``notebook``, or not a notebook (not UTF-8 JSON).
    """
    import papermill as pm

    path = Path(notebook)
    if not path.is_file():
        raise ReportError(f"No notebook at {path}.")
    try:
        return dict(pm.inspect_notebook(str(path)))
    except ValueError as exc:  # also nbformat's NotJSONError and UnicodeDecodeError
        raise ReportError(f"{path} is not a readable notebook: {exc}") from None


def check_parameters(notebook: str | Path, parameters: Mapping[str, Any],
                     *, declared: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """Check parameter names and simple types against the notebook before running it.

    papermill injects unknown names with only a warning, so a misspelt name
    (``acount_id``) would silently run the report with the default account.

    Parameters
    ----------
    notebook : path
        The notebook (named in messages; read unless ``declared`` is given).
    parameters : mapping
        name → value to inject.
    declared : mapping, optional
        The notebook's parameters as from :func:`notebook_parameters`.

    Returns
    -------
    dict
        The parameters, unchanged, as a plain dict.

    Raises
    ------
    ParameterError
        A name the notebook does not declare (with the closest declared name), or
        a value whose type differs from the declared ``str``/``int``/``float``/``bool``.
    """
    declared = notebook_parameters(notebook) if declared is None else declared
    name = Path(notebook).name
    listing = ", ".join(f"{k} ({v.get('inferred_type_name') or '?'})" for k, v in declared.items()) or "none"
    for key, value in parameters.items():
        if key not in declared:
            close = difflib.get_close_matches(key, list(declared), n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise ParameterError(
                f"Unknown parameter '{key}' for {name}.{hint} The notebook's parameters are: {listing}. "
                "(papermill would only warn and run the report with the default value.)"
            )
        type_name = (declared[key].get("inferred_type_name") or "").strip()
        check = _TYPE_CHECKS.get(type_name)
        if check and not check[0](value):
            raise ParameterError(
                f"Parameter '{key}' of {name} must be {check[1]} ({type_name}); got {value!r} "
                f"({type(value).__name__})."
            )
    return dict(parameters)


def inject_parameters(nb: Any, parameters: Mapping[str, Any], *, kernel_name: str = KERNEL_NAME,
                      language: str = "python") -> Any:
    """A copy of ``nb`` with the parameter values in a cell after the ``parameters`` cell.

    Parameters
    ----------
    nb : NotebookNode
        The notebook as read by :func:`nbformat.read`.
    parameters : mapping
        name → value (str, int, float, bool or None).
    kernel_name, language : str
        Select papermill's translator (Python by default).

    Returns
    -------
    NotebookNode
        The copy.  The new cell is tagged ``injected-parameters`` and has that
        id; an earlier injected cell is replaced; ``metadata.papermill.parameters``
        records the values — as ``papermill`` does, minus its random cell id and
        run timestamps, so the same inputs give the same file.

    Notes
    -----
    Strings go through papermill's escaping (``unicode_escape``, quotes
    backslashed), so a value such as ``"'; import os`` stays a string literal.
    """
    import nbformat
    from papermill.translators import translate_parameters

    nb = copy.deepcopy(nb)
    source = translate_parameters(kernel_name, language, dict(parameters), "Parameters")
    cell = nbformat.v4.new_code_cell(source=source)
    cell.metadata["tags"] = ["injected-parameters"]
    if nb.get("nbformat_minor", 0) >= 5:
        cell["id"] = "injected-parameters"
    else:
        cell.pop("id", None)
    tags = [c.get("metadata", {}).get("tags", []) for c in nb.cells]
    injected = next((i for i, t in enumerate(tags) if "injected-parameters" in t), None)
    params_at = next((i for i, t in enumerate(tags) if "parameters" in t), None)
    if injected is not None:
        nb.cells[injected] = cell
    elif params_at is not None:
        nb.cells.insert(params_at + 1, cell)
    else:
        nb.cells.insert(0, cell)
    _ensure_cell_ids(nb)
    nb.metadata.setdefault("papermill", {})["parameters"] = dict(parameters)
    return nb


def _ensure_cell_ids(nb: Any) -> None:
    """Give cells without an id a deterministic one (nbformat ≥ 4.5 needs ids; nbformat's are random)."""
    if nb.get("nbformat_minor", 0) < 5:
        return
    used = {c.get("id") for c in nb.cells if c.get("id")}
    for i, c in enumerate(nb.cells):
        if not c.get("id"):
            new = f"cell-{i}"
            while new in used:
                new += "x"
            c["id"] = new
            used.add(new)


def _notebooks_parameters(paths: Sequence[str | Path]) -> list[dict[str, dict[str, Any]]]:
    return [notebook_parameters(p) for p in paths]


def _notebook_imports(sources: Iterable[str]) -> list[str]:
    """The top-level import statements of the notebooks' code cells (from their texts), for warming a kernel up."""
    import ast

    found: list[str] = []
    for source in sources:
        try:
            nb = json.loads(source)
        except ValueError:
            continue
        cells = nb.get("cells") if isinstance(nb, dict) else None
        for cell in cells if isinstance(cells, list) else []:
            if not isinstance(cell, dict) or cell.get("cell_type") != "code":
                continue
            src = cell.get("source", "")
            try:
                tree = ast.parse(src if isinstance(src, str) else "".join(src))
            except SyntaxError:
                continue
            found += [ast.unparse(node) for node in tree.body
                      if isinstance(node, ast.Import) or (isinstance(node, ast.ImportFrom) and not node.level)]
    return list(dict.fromkeys(found))
