"""The account report's methods note: formulas, thresholds, versions and the data hash.
"""

from __future__ import annotations

import platform
from functools import lru_cache
from importlib import metadata
from typing import Any

from helpers.data import store as st
from helpers.report.formatting import _num
from helpers.stats import benchmark as bm

from .load import CI, FDR, RWG_STABLE_N, AccountData
from .meeting import equivalence_margin
from .texts import _md, _methods_items


@lru_cache(maxsize=None)
def _version(pkg: str) -> str:
    """The installed version of ``pkg``, or "not installed"."""
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return "not installed"


def methods_note(account: AccountData) -> dict[str, Any]:
    """How the numbers were made: formulas, thresholds, package versions and the data hash.

    Returns
    -------
    dict
        ``text`` (Markdown in the report's language), ``thresholds``,
        ``versions`` (python and packages), ``data_hash``
        (:func:`helpers.data.store.data_hash`), ``waves`` (oldest first),
        ``instrument``.
    """
    thresholds = _thresholds(account)
    versions = _software_versions()
    digest = st.data_hash(store=account.store)
    items = _methods_items(account.language, **_methods_values(account, thresholds, versions, digest))
    text = "\n".join(f"- {item}" for item in items)
    return {"text": text.strip(), "thresholds": thresholds, "versions": versions, "data_hash": digest,
            "waves": list(account.waves), "instrument": account.instrument.name}


def _thresholds(account: AccountData) -> dict[str, Any]:
    """Every threshold the report applies, by name."""
    inst, k = account.instrument, account.min_group_size
    return {"min_group_size": k, "min_comment_group_size": account.min_comment_group_size,
            "min_client_group_size": account.min_client_group_size, "min_reliable_n": account.thresholds.reliable,
            "ci": CI, "fdr": FDR,
            "strong_at": inst.scale_min + 0.75 * (inst.scale_max - inst.scale_min),
            "equivalence_margin": equivalence_margin(inst), "min_items": inst.min_items,
            "benchmark_min_accounts": account.figure_min("client"),
            "benchmark_min_respondents": account.figure_min("client"),
            "benchmark_min_accounts_for_quartiles": bm.MIN_ACCOUNTS_FOR_QUARTILES, "rwg_min_n": k,
            "rwg_stable_n": RWG_STABLE_N}


def _software_versions() -> dict[str, str]:
    """Python's version and those of the packages behind the numbers."""
    return {"python": platform.python_version(),
            **{p: _version(p) for p in ("flamekit", "numpy", "pandas", "scipy", "statsmodels", "matplotlib",
                                        "seaborn", "duckdb")}}


def _methods_values(account: AccountData, thresholds: dict[str, Any], versions: dict[str, str],
                    digest: str) -> dict[str, Any]:
    """The values the methods note quotes, formatted for the report's language (free text escaped)."""
    lang, margin = account.language, thresholds["equivalence_margin"]
    return {"min_items": thresholds["min_items"], "q": _num(FDR, lang, 2),
            "strong_at": _num(thresholds["strong_at"], lang, 1), "margin": _num(margin, lang, 2),
            "margin_1": _num(margin, lang, 1), "k": account.min_group_size, "kc": account.min_comment_group_size,
            "kcl": account.min_client_group_size, "kf": account.figure_min("client"),
            "reliable": account.thresholds.reliable, "k2": 2 * account.min_group_size,
            "rwg_stable_n": RWG_STABLE_N, "mq": thresholds["benchmark_min_accounts_for_quartiles"],
            "waves": ", ".join(_md(w) for w in account.waves), "digest": digest,
            "instrument": _md(account.instrument.name),
            "software": ", ".join(f"{k} {val}" for k, val in versions.items())}
