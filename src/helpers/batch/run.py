"""Render one notebook, or every account of a wave with the overviews, an index and a manifest.
"""

from __future__ import annotations

import difflib
import json
import os
import platform
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from helpers.data.instrument import LANGUAGES

from .errors import ParameterError, RenderError, ReportError
from .files import (
    ACCOUNT_NOTEBOOK,
    EXTRA_NOTEBOOKS,
    _read_notebook,
    account_slugs,
    atomic_write,
    code_hash,
    slugify,
    wave_folder,
)
from .index import INDEX, _index_html, _store_headlines
from .kernel import DEFAULT_TIMEOUT, KERNEL_NAME
from .parameters import BATCH_PARAMETERS, _imports_of, check_parameters
from .pool import _inspect_notebooks, _Pool, _start_fork_server
from .results import MANIFEST, BatchResult, ReportResult, _load_manifest, _task_key, _versions
from .worker import ReportWorker

__all__ = [
    "render_notebook",
    "run_batch",
]


# ---------------------------------------------------------------------------
# Single notebook
# ---------------------------------------------------------------------------
def render_notebook(
    notebook: str | Path,
    html_path: str | Path,
    *,
    parameters: Mapping[str, Any] | None = None,
    with_code: bool = False,
    language: str = "en",
    title: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    kernel_name: str = KERNEL_NAME,
) -> ReportResult:
    """Execute one parameterised notebook and export it to a self-contained HTML file.

    Parameters
    ----------
    notebook : path
        The ``.ipynb`` with a cell tagged ``parameters``.
    html_path : path
        Where the HTML goes; the executed notebook is written beside it
        (same stem, ``.ipynb``).
    parameters : mapping, optional
        Values to inject; every name must be declared by the notebook (pass ids
        as strings).
    with_code : bool
        Keep the code (analyst variant); default hidden.
    language : {"en", "fi"}
        Language of the page chrome (``lang``, the contents heading).
    title : str, optional
        ``<title>``; default the first level-1 heading (see :func:`notebook_title`).
    timeout : float
        Seconds one cell may run.
    kernel_name : str
        Jupyter kernel.

    Returns
    -------
    ReportResult

    Raises
    ------
    ParameterError
        Unknown parameter name or wrong type (nothing is run).
    ReportError
        No readable notebook at ``notebook``, an unknown ``language`` or a
        ``timeout`` that is not positive (nothing is run).
    RenderError
        The notebook raised, timed out or its kernel died, or the export failed.
        The partial notebook is kept as ``<stem>.failed.ipynb`` and no HTML is
        written; ``exc.result`` has the details.

    Examples
    --------
    >>> render_notebook("notebooks/account_report.ipynb", "reports/a001.html",      # doctest: +SKIP
    ...                 parameters={"account_id": "A001", "wave": "2026Q3"})
    """
    notebook = Path(notebook)
    html_path = Path(html_path)
    params = check_parameters(notebook, dict(parameters or {}))
    _check_options(language=language, timeout=timeout)
    html_path.parent.mkdir(parents=True, exist_ok=True)
    stem = html_path.name[:-5] if html_path.name.endswith(".html") else html_path.name
    source, sha = _read_notebook(notebook)
    task = {"name": notebook.stem, "kind": "notebook", "notebook": str(notebook.resolve()), "source": source,
            "notebook_sha256": sha, "parameters": params, "out_dir": str(html_path.parent),
            "slug": stem, "title": title, "with_code": with_code, "language": language}
    with ReportWorker(kernel_name=kernel_name, timeout=timeout) as worker:
        res = ReportResult.from_dict(worker.render(task))
    if not res.ok:
        where = f" The partial notebook is {res.failed_ipynb}." if res.failed_ipynb else ""
        raise RenderError(f"{notebook.name} failed: {res.error}.{where}", res)
    return res


def _check_options(*, language: str, timeout: float, jobs: int = 1) -> None:
    """Raise :class:`ReportError` for an unknown language, a timeout that is not positive or fewer than 1 job."""
    if language not in LANGUAGES:
        raise ReportError(f"language must be one of {list(LANGUAGES)}, not {language!r}.")
    if not (isinstance(timeout, (int, float)) and timeout > 0):
        raise ReportError(f"timeout must be a positive number of seconds (per cell), not {timeout!r}.")
    if int(jobs) < 1:
        raise ReportError(f"jobs must be at least 1, not {jobs}.")


def _resolve_extras(extra_notebooks: Mapping[str, str | Path] | None) -> dict[str, Path]:
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


def run_batch(
    wave: str,
    *,
    accounts: Iterable[str] | None = None,
    jobs: int = 1,
    language: str = "en",
    with_code: bool = False,
    force: bool = False,
    store: str | Path | None = None,
    out_root: str | Path = "reports",
    timeout: float = DEFAULT_TIMEOUT,
    notebook: str | Path | None = None,
    extra_notebooks: Mapping[str, str | Path] | None = None,
    parameters: Mapping[str, Any] | None = None,
    kernel_name: str = KERNEL_NAME,
    progress: bool = True,
) -> BatchResult:
    """Render every account's report for one wave, plus the overviews, an index and a manifest.

    Parameters
    ----------
    wave : str
        Survey wave, e.g. ``"2026Q3"``.
    accounts : iterable of str, optional
        Account ids to render (default: every account with answers in the
        wave).  Unknown ids, and ids without answers in the wave, are an error
        before anything runs.
    jobs : int
        Worker processes, each with one warm kernel.  The output files are the
        same whatever the number.
    language : {"en", "fi"}
        Language of the reports and the index.
    with_code : bool
        Keep the code in the HTML (analyst variant).
    force : bool
        Render even reports whose inputs have not changed.
    store : path, optional
        The store (default :func:`helpers.data.store.default_store`).
    out_root : path
        Reports go to ``<out_root>/<wave>/`` (the folder named by :func:`wave_folder`).
    timeout : float
        Seconds one cell may run before its report fails.
    notebook : path, optional
        The per-account notebook (default ``notebooks/account_report.ipynb``).
        It must declare ``account_id``, ``wave`` and ``store``.
    extra_notebooks : mapping, optional
        name → notebook rendered once per wave (default: ``portfolio`` and
        ``drivers`` in ``notebooks/`` when they exist; ``{}`` for none).  Each
        must declare ``store`` and ``wave`` or ``waves``.
    parameters : mapping, optional
        Further parameters, e.g. ``{"min_group_size": 5}``, passed to every
        notebook that declares them; a name no notebook declares is an error.
    kernel_name : str
        Jupyter kernel.
    progress : bool
        Show a progress bar on stderr.

    Returns
    -------
    BatchResult
        ``exit_code`` is 1 when any report of this run failed.

    Raises
    ------
    ReportError
        Nothing to do or bad input: a wave without answers, unknown accounts,
        a missing notebook or parameter, an unknown language, ``jobs`` below 1
        or a ``timeout`` that is not positive.  Nothing has run then.
    helpers.data.store.StoreError
        No store file, or it is open for writing in another process.

    Notes
    -----
    Each notebook gets, of ``account_id``, ``wave``, ``waves`` (every wave up
    to ``wave``, comma-separated), ``store`` and ``language``, the ones its
    parameters cell declares — ids always as strings.

    Files in ``<out_root>/<wave>/``: ``<slug>.html`` and ``<slug>.ipynb`` per
    report (slugs from :func:`account_slugs`), ``<slug>.failed.ipynb`` for a
    failed one (no HTML then), ``index.html`` (every report with its headline
    figures — from the notebook's cell tagged ``headline`` whose output is
    ``application/json``, else counted from the store — and links) and
    ``manifest.json`` (parameters, data hash, package versions, timings, status
    and error of every report).  Every file is written under a temporary name
    and renamed.

    A report is skipped when its key — hash of the notebook file, its
    parameters, :func:`helpers.data.store.data_hash`, the helpers' source and the
    HTML options — equals the key in the previous manifest and its files exist.
    Reports of earlier runs not in this one stay listed (``action="kept"``).

    Examples
    --------
    >>> result = run_batch("2026Q3", jobs=2)          # doctest: +SKIP
    >>> result.index                                   # doctest: +SKIP
    PosixPath('reports/2026Q3/index.html')
    """
    t_start = time.perf_counter()
    started = datetime.now(timezone.utc)
    _check_options(language=language, timeout=timeout, jobs=jobs)
    _start_fork_server()  # first: its imports run beside this process's import of the store (DuckDB)
    # The notebooks' imports warm every kernel up: each new kernel runs them before its first report.
    extras_given = EXTRA_NOTEBOOKS if extra_notebooks is None else extra_notebooks
    warmup = _imports_of([notebook or ACCOUNT_NOTEBOOK, *extras_given.values()])
    from helpers.data.store import data_hash as store_data_hash
    from helpers.data.store import default_store, load_accounts, query
    from helpers.data.store import waves as store_waves

    wave = str(wave)
    store_path = Path(store) if store else default_store()
    store_path = store_path.resolve()
    all_waves = store_waves(store=store_path)
    if wave not in all_waves:
        raise ReportError(f"No survey answers for wave {wave!r} in {store_path}. "
                          f"Waves in the store: {', '.join(all_waves) or 'none (ingest exports first)'}.")
    folder = wave_folder(wave)
    acc = load_accounts(store=store_path)
    names = {str(a): str(n) for a, n in zip(acc["account_id"], acc["name"])}
    in_wave = [str(a) for a in query("SELECT DISTINCT account_id FROM responses WHERE wave = ? ORDER BY account_id",
                                      [wave], store=store_path)["account_id"]]
    if accounts is None:
        ids = in_wave
    else:
        ids = list(dict.fromkeys(str(a) for a in accounts))
        unknown = [a for a in ids if a not in names]
        if unknown:
            hints = []
            folded = {k.casefold().strip(): k for k in names}
            for a in unknown:
                same = folded.get(a.casefold().strip())
                close = [same] if same else difflib.get_close_matches(a, list(names), n=1)
                hints.append(f"{a!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
            raise ReportError(f"Unknown account id(s): {', '.join(hints)}. "
                              f"The store has {len(names)} accounts, e.g. {', '.join(list(names)[:3])}.")
        quiet = [a for a in ids if a not in set(in_wave)]
        if quiet:
            raise ReportError(f"No answers in wave {wave} for account(s) {', '.join(quiet)}; "
                              "there is nothing to report on.")
    if not ids:
        raise ReportError(f"No accounts to report on in wave {wave}.")

    nb_path = Path(notebook) if notebook else ACCOUNT_NOTEBOOK
    if not nb_path.is_file():
        raise ReportError(f"No account report notebook at {nb_path}.")
    extras = _resolve_extras(extra_notebooks)
    extra_params = dict(parameters or {})
    for key in extra_params:
        if key in BATCH_PARAMETERS:
            raise ParameterError(f"Parameter '{key}' is set by the batch itself; use run_batch's own argument.")
    offered = {"wave": wave, "waves": ",".join(all_waves[: all_waves.index(wave) + 1]), "store": str(store_path),
               "language": language}
    out_dir = Path(out_root) / folder
    dhash = store_data_hash(store=store_path)
    chash = code_hash()
    slugs = account_slugs(acc)
    previous = {e.get("slug"): e for e in _load_manifest(out_dir / MANIFEST).get("reports", [])}

    # One task per report.  The key hashes every value the batch offers (each notebook takes the ones it
    # declares, a function of the notebook whose hash is in the key too), so it is known before the
    # notebooks' parameters are inspected and the workers can start warming up at once.
    tasks: list[dict[str, Any]] = []
    for name, path in extras.items():
        tasks.append({"name": name, "kind": name, "account_id": None, "slug": slugify(name), "notebook": path})
    for account_id in sorted(ids, key=lambda a: (names[a].casefold(), a)):
        tasks.append({"name": names[account_id], "kind": "account", "account_id": account_id,
                      "slug": slugs[account_id], "notebook": nb_path})
    sources: dict[str, tuple[str, str]] = {}  # notebook path → (text, sha256): each file read once
    for t in tasks:
        t["notebook"] = str(Path(t["notebook"]).resolve())
        if t["notebook"] not in sources:
            sources[t["notebook"]] = _read_notebook(t["notebook"])
        source, sha = sources[t["notebook"]]
        key_values = {**offered, "account_id": t["account_id"], **extra_params}
        t.update(source=source, notebook_sha256=sha, key=_task_key(sha, key_values, dhash, chash, with_code),
                 data_hash=dhash, out_dir=str(out_dir), with_code=with_code, language=language, wave=wave)
    results: dict[str, ReportResult] = {}
    to_run = []
    for t in tasks:
        prev = previous.get(t["slug"])
        if (not force and prev and prev.get("status") == "ok" and prev.get("key") == t["key"]
                and (out_dir / f"{t['slug']}.html").is_file() and (out_dir / f"{t['slug']}.ipynb").is_file()):
            kept = {**prev, **{k: v for k, v in t.items() if k != "out_dir"}}
            kept.update(action="unchanged", seconds=0.0, seconds_execute=None, seconds_export=None,
                        html=str(out_dir / f"{t['slug']}.html"), ipynb=str(out_dir / f"{t['slug']}.ipynb"))
            results[t["slug"]] = ReportResult.from_dict(kept)
        else:
            to_run.append(t)

    pool = None
    if to_run:
        workers = max(1, min(int(jobs), len(to_run)))
        worker_kwargs = {"kernel_name": kernel_name, "timeout": timeout, "exporter": (with_code, language),
                         "threads": max(1, (os.cpu_count() or 1) // workers),
                         "warmup": warmup,
                         "env": dict(os.environ)}  # the workers' own may be the fork server's, older
        pool = _Pool(workers, worker_kwargs)
    try:
        # Check every notebook's parameters (papermill only warns about unknown names) before anything runs.
        found = _inspect_notebooks([nb_path, *extras.values()])
        declared = dict(zip(["account", *extras], found))
        for need in ("account_id", "wave", "store"):
            if need not in declared["account"]:
                raise ReportError(f"{nb_path.name} has no '{need}' parameter; the batch needs it to pass "
                                  f"the {need.replace('_', ' ')} of each report.")
        for name, decl in declared.items():
            if name != "account" and ("store" not in decl or not ({"wave", "waves"} & set(decl))):
                raise ReportError(f"{extras[name].name} needs 'store' and 'wave' (or 'waves') parameters.")
        known = list(dict.fromkeys(k for d in declared.values() for k in d))
        for key in extra_params:
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1)
                nb_list = ", ".join([nb_path.name, *(p.name for p in extras.values())])
                raise ParameterError(
                    f"Unknown parameter '{key}': no notebook of the batch ({nb_list}) declares it."
                    + (f" Did you mean '{close[0]}'?" if close else "")
                    + f" Their parameters are: {', '.join(known)}.")
        for t in tasks:
            decl = declared[t["kind"]]
            values = dict(offered, account_id=t["account_id"])
            p = {k: values[k] for k in BATCH_PARAMETERS if k in decl and values.get(k) is not None}
            p.update({k: v for k, v in extra_params.items() if k in decl})
            t["parameters"] = check_parameters(t["notebook"], p, declared=decl)
            if t["slug"] in results:
                results[t["slug"]].parameters = t["parameters"]
        out_dir.mkdir(parents=True, exist_ok=True)
        if pool is not None:
            for res in pool.render(to_run, progress=progress, desc=f"reports {wave}"):
                results[res["slug"]] = ReportResult.from_dict({**res, "action": "rendered"})
    except ReportError:
        if pool is not None:
            pool.close(terminate=True)  # nothing has run yet
        raise
    except BaseException:
        if pool is not None:
            pool.close(cancel=True)
        raise
    if pool is not None:
        pool.close()

    # Reports of earlier runs that this run did not touch stay listed while their files exist.
    for slug, prev in previous.items():
        if slug and slug not in results and prev.get("status") == "ok" and (out_dir / f"{slug}.html").is_file():
            results[slug] = ReportResult.from_dict({**prev, "action": "kept"})

    missing = [r for r in results.values()
               if r.kind == "account" and r.account_id and not r.headline and r.action != "kept"]
    if missing:  # counted from the store only for reports whose notebook gave no headline (e.g. failed ones)
        fallback = _store_headlines(store_path, wave, [r.account_id for r in missing])
        for r in missing:
            r.headline = fallback.get(r.account_id)
    order = {t["slug"]: i for i, t in enumerate(tasks)}
    reports = sorted(results.values(), key=lambda r: (r.kind == "account", order.get(r.slug, len(order)),
                                                      (r.name or "").casefold(), r.slug))
    seconds = time.perf_counter() - t_start
    index_path = atomic_write(out_dir / INDEX, _index_html(reports, wave=wave, language=language,
                                                           data_hash=dhash))
    manifest = {
        "wave": wave,
        "created_at": started.isoformat(timespec="seconds"),
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "parameters": {"wave": wave, "accounts": None if accounts is None else ids, "jobs": int(jobs),
                       "language": language, "with_code": with_code, "force": force, "store": str(store_path),
                       "out_root": str(out_root), "timeout": timeout, "kernel_name": kernel_name,
                       "notebook": str(nb_path.resolve()), "extra_notebooks": {k: str(v.resolve()) for k, v in
                                                                                extras.items()},
                       "parameters": extra_params},
        "data_hash": dhash,
        "code_hash": chash,
        "notebooks": {path: sha for path, (_, sha) in sources.items()},
        "versions": _versions(),
        "platform": platform.platform(),
        "timings": {"seconds": round(seconds, 3), "rendered": sum(r.action == "rendered" for r in reports),
                    "unchanged": sum(r.action == "unchanged" for r in reports),
                    "failed": sum(r.status == "failed" and r.action != "kept" for r in reports),
                    "seconds_per_rendered_report": round(seconds / max(1, len(to_run)), 3)},
        "reports": [asdict(r) for r in reports],
    }
    manifest_path = atomic_write(out_dir / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False,
                                                                default=str) + "\n")
    return BatchResult(wave=wave, out_dir=out_dir, index=index_path, manifest=manifest_path, reports=reports,
                       seconds=seconds)
