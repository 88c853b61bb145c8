"""flamekit helpers: small, documented functions behind the notebooks.

One module per concept: ``instrument`` (dimensions, items, scales, labels),
``readers`` and ``ingest`` (survey exports → store), ``store`` (the DuckDB file),
``scores`` (dimension scores, NPS, reliability, agreement), ``sample`` (seeded
synthetic data), ``cli`` (the ``flamekit`` command).
"""

__version__ = "0.1.0"
