"""Plan a batch: which reports, from which notebooks, with which parameters, and which need rendering.

Takes a wave, the store and the batch's notebooks and options; hands on a
:class:`BatchPlan` — one task per report (overviews first, then accounts by
name) with its notebook's text and its key, and the reports whose key is the
one of the previous manifest — which :mod:`.run` renders and finishes.
Everything that can be wrong with the input is found here, before a report
runs: the wave, the account ids, the notebooks and the parameters.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ParameterError, ReportError
from .files import ACCOUNT_NOTEBOOK, EXTRA_NOTEBOOKS, _read_notebook, account_slugs, code_hash, slugify, wave_folder
from .journal import read_records
from .parameters import BATCH_PARAMETERS, _notebook_imports, check_parameters
from .pool import _inspect_notebooks
from .results import MANIFEST, ReportResult, _load_manifest, _task_key

#: Overview pages that show the follow-up loop: their key follows the loop's state (:attr:`BatchPlan.loop`).
LOOP_OVERVIEWS = ("portfolio",)

__all__ = [
    "BatchPlan",
    "assign_parameters",
    "plan_batch",
]


@dataclass
class BatchPlan:
    """What a batch is asked to do and what it found before anything runs (see :func:`plan_batch`).

    Attributes
    ----------
    wave : str
    store : Path
        The store, resolved.
    out_root, out_dir : Path
        As given, and ``<out_root>/<wave folder>``.
    accounts : list of str, optional
        The account ids asked for (``None``: every account with answers in the wave).
    notebook : Path
        The per-account notebook.
    extras : dict
        name → notebook rendered once per wave.
    parameters : dict
        The caller's further parameters.
    offered : dict
        The values the batch offers every notebook (``wave``, ``waves``,
        ``store``, ``language``); ``account_id`` is each task's own.
    language, with_code, force
        The batch's options.
    data_hash, code_hash : str
        What the reports' keys were computed from.
    loop : dict
        The follow-up loop's state (:func:`helpers.data.followups.loop_state`):
        account id → hash, and ``""`` → the whole loop's.  It enters the key of
        an account with follow-up items and of the overviews in
        :data:`LOOP_OVERVIEWS`, so a queue run, new outcomes or an item
        falling overdue render those again (the loop has no file of its own
        in ``data_hash``).
    sources : dict
        Notebook path → (text, SHA-256), each file read once.
    tasks : list of dict
        One per report, overviews first, then accounts by name.
    unchanged : dict
        Slug → result of each report whose key is the previous manifest's and
        whose files are still there.
    previous : dict
        Slug → the previous manifest's entry, or the report's newer record
        from a batch that did not finish (:func:`helpers.batch.journal.read_records`).
    """

    wave: str
    store: Path
    out_root: Path
    out_dir: Path
    accounts: list[str] | None
    notebook: Path
    extras: dict[str, Path]
    parameters: dict[str, Any]
    offered: dict[str, Any]
    language: str
    with_code: bool
    force: bool
    data_hash: str
    code_hash: str
    sources: dict[str, tuple[str, str]] = field(default_factory=dict)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    unchanged: dict[str, ReportResult] = field(default_factory=dict)
    previous: dict[str, dict[str, Any]] = field(default_factory=dict)
    loop: dict[str, str] = field(default_factory=dict)

    @property
    def to_run(self) -> list[dict[str, Any]]:
        """The tasks to render: those not unchanged."""
        return [t for t in self.tasks if t["slug"] not in self.unchanged]

    @property
    def warmup(self) -> list[str]:
        """The notebooks' import statements, the account notebook's first: run once in every new kernel."""
        paths = [self.notebook, *self.extras.values()]
        return _notebook_imports(self.sources[str(p.resolve())][0] for p in paths)


def plan_batch(
    wave: str,
    *,
    accounts: Iterable[str] | None = None,
    store: str | Path | None = None,
    out_root: str | Path = "reports",
    notebook: str | Path | None = None,
    extra_notebooks: Mapping[str, str | Path] | None = None,
    parameters: Mapping[str, Any] | None = None,
    language: str = "en",
    with_code: bool = False,
    force: bool = False,
) -> BatchPlan:
    """The reports of one wave, each with its key, and which of them are unchanged since the last run.

    Parameters
    ----------
    wave, accounts, store, out_root, notebook, extra_notebooks, parameters, language, with_code, force
        As for :func:`helpers.batch.run_batch`.

    Returns
    -------
    BatchPlan
        Every task has its notebook's text and its key; the parameters come
        with :func:`assign_parameters`, once the notebooks are inspected.

    Raises
    ------
    ReportError
        A wave without answers, unknown accounts or accounts without answers
        in the wave, a missing or unreadable notebook, an overview name that
        cannot be used.
    ParameterError
        A further parameter the batch sets itself.
    """
    from helpers.data.followups import loop_state
    from helpers.data.store import data_hash, default_store, load_accounts  # DuckDB and pandas: only when used

    wave = str(wave)
    store_path = (Path(store) if store else default_store()).resolve()
    all_waves = _waves_up_to(wave, store=store_path)
    out_dir = Path(out_root) / wave_folder(wave)
    acc = load_accounts(store=store_path)
    names = {str(a): str(n) for a, n in zip(acc["account_id"], acc["name"])}
    ids = _accounts_to_report(wave, accounts, names=names, store=store_path)
    plan = BatchPlan(
        wave=wave, store=store_path, out_root=Path(out_root), out_dir=out_dir,
        accounts=None if accounts is None else ids, notebook=_account_notebook(notebook),
        extras=_overview_notebooks(extra_notebooks), parameters=_further_parameters(parameters),
        offered={"wave": wave, "waves": ",".join(all_waves), "store": str(store_path), "language": language},
        language=language, with_code=with_code, force=force,
        data_hash=data_hash(store=store_path), code_hash=code_hash(), loop=loop_state(store=store_path),
    )
    plan.previous = {e.get("slug"): e for e in _load_manifest(out_dir / MANIFEST).get("reports", [])}
    plan.previous.update(read_records(out_dir))  # what each report's last rendering left, finished or not
    plan.sources = _notebook_sources([*plan.extras.values(), plan.notebook])
    plan.tasks = _report_tasks(plan, ids=ids, names=names, slugs=account_slugs(acc))
    plan.unchanged = _unchanged_reports(plan)
    return plan


# ---------------------------------------------------------------------------
# The wave and its accounts
# ---------------------------------------------------------------------------
def _waves_up_to(wave: str, *, store: Path) -> list[str]:
    """The store's waves up to ``wave``, oldest first (:class:`ReportError` when it has no answers in ``wave``)."""
    from helpers.data.store import waves

    all_waves = waves(store=store)
    if wave not in all_waves:
        raise ReportError(f"No survey answers for wave {wave!r} in {store}. "
                          f"Waves in the store: {', '.join(all_waves) or 'none (ingest exports first)'}.")
    return all_waves[: all_waves.index(wave) + 1]


def _accounts_to_report(wave: str, accounts: Iterable[str] | None, *, names: Mapping[str, str],
                        store: Path) -> list[str]:
    """The ids asked for, or every account with answers in the wave; each must be known and have answers."""
    from helpers.data.store import query

    in_wave = [str(a) for a in query("SELECT DISTINCT account_id FROM responses WHERE wave = ? ORDER BY account_id",
                                      [wave], store=store)["account_id"]]
    if accounts is None:
        ids = in_wave
    else:
        ids = list(dict.fromkeys(str(a) for a in accounts))
        _check_known(ids, names)
        quiet = [a for a in ids if a not in set(in_wave)]
        if quiet:
            raise ReportError(f"No answers in wave {wave} for account(s) {', '.join(quiet)}; "
                              "there is nothing to report on.")
    if not ids:
        raise ReportError(f"No accounts to report on in wave {wave}.")
    return ids


def _check_known(ids: list[str], names: Mapping[str, str]) -> None:
    """Raise :class:`ReportError` naming the unknown ids, each with the id it most likely meant."""
    unknown = [a for a in ids if a not in names]
    if not unknown:
        return
    hints = []
    folded = {k.casefold().strip(): k for k in names}
    for a in unknown:
        same = folded.get(a.casefold().strip())
        close = [same] if same else difflib.get_close_matches(a, list(names), n=1)
        hints.append(f"{a!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    raise ReportError(f"Unknown account id(s): {', '.join(hints)}. "
                      f"The store has {len(names)} accounts, e.g. {', '.join(list(names)[:3])}.")


# ---------------------------------------------------------------------------
# Notebooks and parameters
# ---------------------------------------------------------------------------
def _account_notebook(notebook: str | Path | None) -> Path:
    """The per-account notebook: the one given, else ``notebooks/account_report.ipynb``; it must exist."""
    path = Path(notebook) if notebook else ACCOUNT_NOTEBOOK
    if not path.is_file():
        raise ReportError(f"No account report notebook at {path}.")
    return path


def _overview_notebooks(extra_notebooks: Mapping[str, str | Path] | None) -> dict[str, Path]:
    """The overviews: the shipped ones that exist, or the ones given, each of which must exist."""
    if extra_notebooks is None:
        return {k: p for k, p in EXTRA_NOTEBOOKS.items() if p.is_file()}
    out = {}
    for name, p in extra_notebooks.items():
        p = Path(p)
        if not p.is_file():
            raise ReportError(f"No notebook at {p} (overview '{name}').")
        if not slugify(name) or name == "account":
            raise ReportError(f"Overview name {name!r} cannot be used (it needs letters or digits, "
                              "and 'account' is taken).")
        out[str(name)] = p
    return out


def _further_parameters(parameters: Mapping[str, Any] | None) -> dict[str, Any]:
    """The caller's further parameters (:class:`ParameterError` for one the batch sets itself)."""
    extra = dict(parameters or {})
    for key in extra:
        if key in BATCH_PARAMETERS:
            raise ParameterError(f"Parameter '{key}' is set by the batch itself; use run_batch's own argument.")
    return extra


def _notebook_sources(paths: Iterable[Path]) -> dict[str, tuple[str, str]]:
    """Each notebook's text and SHA-256 by resolved path, every file read once."""
    sources: dict[str, tuple[str, str]] = {}
    for p in paths:
        key = str(Path(p).resolve())
        if key not in sources:
            sources[key] = _read_notebook(key)
    return sources


def assign_parameters(plan: BatchPlan) -> None:
    """Check the notebooks' parameters cells and give every task the parameters its notebook declares.

    papermill only warns about names a notebook does not declare, so they are
    checked here before anything runs.  The notebooks are read in a process
    forked from the fork server (:func:`helpers.batch.pool._inspect_notebooks`).

    Parameters
    ----------
    plan : BatchPlan
        From :func:`plan_batch`; every task gets ``parameters``, and so does
        each unchanged report's result.

    Raises
    ------
    ReportError
        The account notebook lacks ``account_id``, ``wave`` or ``store``, or an
        overview lacks ``store`` and ``wave``/``waves``.
    ParameterError
        A further parameter no notebook declares, or a value of the wrong type.
    """
    found = _inspect_notebooks([plan.notebook, *plan.extras.values()])
    declared = dict(zip(["account", *plan.extras], found))
    _check_batch_parameters_declared(plan, declared)
    _check_further_parameters_declared(plan, declared)
    for t in plan.tasks:
        decl = declared[t["kind"]]
        values = dict(plan.offered, account_id=t["account_id"])
        p = {k: values[k] for k in BATCH_PARAMETERS if k in decl and values.get(k) is not None}
        p.update({k: v for k, v in plan.parameters.items() if k in decl})
        t["parameters"] = check_parameters(t["notebook"], p, declared=decl)
        if t["slug"] in plan.unchanged:
            plan.unchanged[t["slug"]].parameters = t["parameters"]


def _check_batch_parameters_declared(plan: BatchPlan, declared: Mapping[str, Mapping[str, Any]]) -> None:
    """Every notebook declares the parameters the batch passes it (the account's id, the wave, the store)."""
    for need in ("account_id", "wave", "store"):
        if need not in declared["account"]:
            raise ReportError(f"{plan.notebook.name} has no '{need}' parameter; the batch needs it to pass "
                              f"the {need.replace('_', ' ')} of each report.")
    for name, decl in declared.items():
        if name != "account" and ("store" not in decl or not ({"wave", "waves"} & set(decl))):
            raise ReportError(f"{plan.extras[name].name} needs 'store' and 'wave' (or 'waves') parameters.")


def _check_further_parameters_declared(plan: BatchPlan, declared: Mapping[str, Mapping[str, Any]]) -> None:
    """Every further parameter is declared by at least one notebook of the batch."""
    known = list(dict.fromkeys(k for d in declared.values() for k in d))
    for key in plan.parameters:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=1)
            nb_list = ", ".join([plan.notebook.name, *(p.name for p in plan.extras.values())])
            raise ParameterError(
                f"Unknown parameter '{key}': no notebook of the batch ({nb_list}) declares it."
                + (f" Did you mean '{close[0]}'?" if close else "")
                + f" Their parameters are: {', '.join(known)}.")


# ---------------------------------------------------------------------------
# Tasks and what is unchanged
# ---------------------------------------------------------------------------
def _report_tasks(plan: BatchPlan, *, ids: Iterable[str], names: Mapping[str, str],
                  slugs: Mapping[str, str]) -> list[dict[str, Any]]:
    """One task per report, overviews first, then accounts by name, each with its notebook's text and key.

    The key hashes every value the batch offers (each notebook takes the ones
    it declares, a function of the notebook whose hash is in the key too), so it
    is known before the notebooks' parameters are inspected and the workers can
    start warming up at once.
    """
    tasks = [{"name": name, "kind": name, "account_id": None, "slug": slugify(name), "notebook": path}
             for name, path in plan.extras.items()]
    tasks += [{"name": names[a], "kind": "account", "account_id": a, "slug": slugs[a], "notebook": plan.notebook}
              for a in sorted(ids, key=lambda a: (names[a].casefold(), a))]
    for t in tasks:
        t["notebook"] = str(Path(t["notebook"]).resolve())
        source, sha = plan.sources[t["notebook"]]
        key_values = {**plan.offered, "account_id": t["account_id"], **plan.parameters}
        loop = plan.loop.get(t["account_id"] if t["kind"] == "account" else "") \
            if t["kind"] in ("account", *LOOP_OVERVIEWS) else None
        if loop:  # only reports that show the loop, and only when there is one: other keys stay as they were
            key_values["loop"] = loop
        t.update(source=source, notebook_sha256=sha,
                 key=_task_key(sha, key_values, plan.data_hash, plan.code_hash, plan.with_code),
                 data_hash=plan.data_hash, out_dir=str(plan.out_dir), with_code=plan.with_code,
                 language=plan.language, wave=plan.wave)
    return tasks


def _unchanged_reports(plan: BatchPlan) -> dict[str, ReportResult]:
    """Reports rendered with this run's key whose HTML and notebook are still there (none when forced).

    What a report was last rendered with comes from the manifest, or from
    its record when a batch stopped before writing one (:mod:`.journal`).
    """
    if plan.force:
        return {}
    unchanged = {}
    for t in plan.tasks:
        prev = plan.previous.get(t["slug"])
        html, ipynb = plan.out_dir / f"{t['slug']}.html", plan.out_dir / f"{t['slug']}.ipynb"
        if prev and prev.get("status") == "ok" and prev.get("key") == t["key"] and html.is_file() and ipynb.is_file():
            kept = {**prev, **{k: v for k, v in t.items() if k != "out_dir"}}
            kept.update(action="unchanged", seconds=0.0, seconds_execute=None, seconds_export=None,
                        html=str(html), ipynb=str(ipynb))
            unchanged[t["slug"]] = ReportResult.from_dict(kept)
    return unchanged
