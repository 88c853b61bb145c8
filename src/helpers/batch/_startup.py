"""Start-up of the report batch's own processes: leave out one optional import that costs 0.8 s.

jsonschema, which nbformat imports to validate notebooks, imports the optional
package ``rfc3987_syntax`` whenever it is installed (jupyterlab's dependencies
bring it), and that package builds a grammar parser at import time: about
0.8 s in every process that imports nbformat (python-jsonschema/jsonschema#1428).
Its only use is checking the JSON-schema formats "iri" and "iri-reference",
which nbformat never asks for.  ``flamekit reports``, the fork server and the
worker processes of the batch import this module first, so jsonschema finds
the package "missing" there and skips that check; nothing else changes.  The
module changes nothing in a process that has already imported jsonschema, and
it is never imported by the helpers the notebooks use.
"""

from __future__ import annotations

import sys

if "jsonschema" not in sys.modules:
    sys.modules.setdefault("rfc3987_syntax", None)  # `import rfc3987_syntax` now raises ImportError
