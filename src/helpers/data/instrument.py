"""The survey instrument: dimensions, items, scales, labels and "don't know" codes.

Everything in the kit that needs to know which items exist, which dimension an
item belongs to, what the scale is or how a dimension is called in Finnish asks
an :class:`Instrument`.  The default is the five-dimension flamekit instrument
shipped as ``instrument.yml``; a user's own instrument is a YAML file of the same
shape (other items, a 1–7 scale, a sixth dimension) passed wherever
``instrument=`` is accepted.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import yaml

DEFAULT_INSTRUMENT = Path(__file__).with_name("instrument.yml")
SIDES = ("client", "staff")
LANGUAGES = ("en", "fi")


class InstrumentError(ValueError):
    """The instrument definition file is not usable."""


def normalise_header(text: Any) -> str:
    """Fold a column header or answer text for matching: NFC, case, spacing, end punctuation.

    >>> normalise_header("  Kumppani  haastaa ajatteluamme rakentavasti. ")
    'kumppani haastaa ajatteluamme rakentavasti'
    """
    s = unicodedata.normalize("NFC", str(text)).strip().casefold()
    s = re.sub(r"\s+", " ", s)
    return s.rstrip(" .:?!")


@dataclass(frozen=True)
class Item:
    id: str
    dimension: str
    text: dict[str, dict[str, str]]  # side -> language -> wording


@dataclass(frozen=True)
class Dimension:
    id: str
    label: dict[str, str]
    description: dict[str, str]
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Instrument:
    """A parsed instrument definition.  Build with :func:`load_instrument`."""

    name: str
    dimensions: tuple[Dimension, ...]
    scale_min: int
    scale_max: int
    scale_labels: dict[str, dict[int, str]]
    nps_min: int
    nps_max: int
    min_items: int
    dont_know: tuple[str, ...]
    texts: dict[str, Any] = field(default_factory=dict)
    source: str = ""

    # -- lookups ---------------------------------------------------------
    @property
    def dimension_ids(self) -> list[str]:
        """Dimension ids in instrument order, e.g. ``['excitement', 'dare', ...]``."""
        return [d.id for d in self.dimensions]

    @property
    def items(self) -> list[Item]:
        return [i for d in self.dimensions for i in d.items]

    @property
    def item_ids(self) -> list[str]:
        return [i.id for i in self.items]

    @property
    def item_dimension(self) -> dict[str, str]:
        """Mapping item id → dimension id."""
        return {i.id: i.dimension for i in self.items}

    def dimension(self, dimension_id: str) -> Dimension:
        for d in self.dimensions:
            if d.id == dimension_id:
                return d
        raise KeyError(f"Unknown dimension {dimension_id!r}; the instrument has {self.dimension_ids}")

    def label(self, dimension_id: str, language: str = "en") -> str:
        """Display label of a dimension, e.g. ``label('care', 'fi') == 'Välittäminen'``."""
        d = self.dimension(dimension_id)
        return d.label.get(language) or d.label.get("en") or d.id

    def labels(self, language: str = "en") -> dict[str, str]:
        """Mapping dimension id → display label in ``language``."""
        return {d: self.label(d, language) for d in self.dimension_ids}

    def is_dont_know(self, value: Any) -> bool:
        """True when ``value`` is one of the instrument's "don't know" codes."""
        if value is None:
            return False
        return normalise_header(value) in self._dont_know_folded

    @cached_property
    def _dont_know_folded(self) -> frozenset[str]:
        return frozenset(normalise_header(v) for v in self.dont_know)

    def header_lookup(self) -> dict[str, str]:
        """Mapping folded header → field, for every wording of every question.

        Item ids, and the item, NPS and comment texts in every side and language,
        all map to their canonical field name (item id, ``nps`` or ``comment``).
        """
        out: dict[str, str] = {}
        for item in self.items:
            out[normalise_header(item.id)] = item.id
            for side_texts in item.text.values():
                for text in side_texts.values():
                    out[normalise_header(text)] = item.id
        for key in ("nps", "comment"):
            for side_texts in (self.texts.get(key, {}).get("text", {}) or {}).values():
                for text in side_texts.values():
                    out[normalise_header(text)] = key
        for field_name, texts in self.contact_questions().items():
            for text in texts:
                out[normalise_header(text)] = field_name
        return out

    def contact_questions(self) -> dict[str, list[str]]:
        """The contact questions' wordings (every language): ``consent``, ``contact_name``, ``contact_email``,
        ``contact_phone`` → texts.  Empty when the instrument asks none."""
        c = self.texts.get("contact") or {}
        out = {"consent": list(((c.get("consent") or {}).get("text") or {}).values())}
        for key in ("name", "email", "phone"):
            out[f"contact_{key}"] = list((c.get(key) or {}).values())
        return {k: [str(t) for t in v] for k, v in out.items() if v}

    def consent_answer(self, value: Any) -> str | None:
        """What a consent answer means: ``"request"`` (please contact me), ``"yes"``, ``"no"``; None when the
        text is none of the instrument's answers (the ingest then counts it as no).

        >>> load_instrument().consent_answer("Kyllä, ottakaa minuun yhteyttä")
        'request'
        """
        if value is None:
            return None
        return self._consent_folded.get(normalise_header(value))

    @cached_property
    def _consent_folded(self) -> dict[str, str]:
        answers = ((self.texts.get("contact") or {}).get("consent") or {}).get("answers") or {}
        out = {normalise_header(m): m for m in ("request", "yes", "no")}
        for meaning, texts in answers.items():
            meaning = {True: "yes", False: "no"}.get(meaning, str(meaning))  # YAML 1.1 reads a bare yes as True
            for text in texts or []:
                out[normalise_header(text)] = meaning
        return out


def _require(mapping: dict, key: str, where: str) -> Any:
    if not isinstance(mapping, dict) or key not in mapping:
        raise InstrumentError(f"Instrument {where} is missing '{key}'")
    return mapping[key]


@lru_cache(maxsize=16)
def _load_cached(path: str, mtime: float) -> Instrument:
    p = Path(path)
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InstrumentError(f"Instrument file {p} is not valid YAML: {exc}") from exc
    scale = _require(raw, "scale", str(p))
    smin, smax = int(_require(scale, "min", "scale")), int(_require(scale, "max", "scale"))
    if smin >= smax:
        raise InstrumentError(f"Instrument {p}: scale min {smin} must be below max {smax}")
    dims: list[Dimension] = []
    seen: set[str] = set()
    for d in _require(raw, "dimensions", str(p)):
        did = str(_require(d, "id", "dimension"))
        if not re.fullmatch(r"[a-z][a-z0-9_]*", did):
            raise InstrumentError(f"Dimension id {did!r} must be lower_snake_case")
        items = []
        for it in _require(d, "items", f"dimension {did}"):
            iid = str(_require(it, "id", f"dimension {did} item"))
            if iid in seen or iid in {"nps", "comment"}:
                raise InstrumentError(f"Item id {iid!r} is used twice in {p}")
            seen.add(iid)
            text = {side: dict(it.get(side) or {}) for side in SIDES}
            items.append(Item(id=iid, dimension=did, text=text))
        if not items:
            raise InstrumentError(f"Dimension {did!r} has no items")
        dims.append(
            Dimension(
                id=did,
                label=dict(d.get("label") or {"en": did.title()}),
                description=dict(d.get("description") or {}),
                items=tuple(items),
            )
        )
    if len({d.id for d in dims}) != len(dims):
        raise InstrumentError(f"Instrument {p} repeats a dimension id")
    labels = {lang: {int(k): str(v) for k, v in (lbl or {}).items()}
              for lang, lbl in (scale.get("labels") or {}).items()}
    nps = raw.get("nps") or {}
    return Instrument(
        name=str(raw.get("name", p.stem)),
        dimensions=tuple(dims),
        scale_min=smin,
        scale_max=smax,
        scale_labels=labels,
        nps_min=int(nps.get("min", 0)),
        nps_max=int(nps.get("max", 10)),
        min_items=int(raw.get("min_items", 1)),
        dont_know=tuple(str(v) for v in raw.get("dont_know", [])),
        texts={"nps": nps, "comment": raw.get("comment") or {}, "contact": raw.get("contact") or {}},
        source=str(p),
    )


def load_instrument(path: str | Path | Instrument | None = None) -> Instrument:
    """Load an instrument definition (default: the shipped flamekit instrument).

    Parameters
    ----------
    path : str, Path, Instrument or None
        YAML file of the same shape as ``helpers/instrument.yml``.  An
        :class:`Instrument` is passed through unchanged, so functions can accept
        either.  None: ``$FLAMEKIT_INSTRUMENT`` when set (``flamekit
        --instrument`` sets it, so notebooks and report kernels started by the
        command use the same instrument), else the shipped one.

    Returns
    -------
    Instrument
    """
    if isinstance(path, Instrument):
        return path
    if path is None:
        path = os.environ.get("FLAMEKIT_INSTRUMENT") or DEFAULT_INSTRUMENT
    p = Path(path)
    if not p.exists():
        raise InstrumentError(f"Instrument file {p} does not exist")
    return _load_cached(str(p.resolve()), p.stat().st_mtime)


# Which instrument made a frame: results carry it, so that the tables and charts drawn from them label the
# dimensions as that instrument does, whichever instrument is in use when they are drawn.
_MADE_WITH: dict[str, Instrument] = {}  # token → instrument; kept alive here, so a token is never reused


def tag_frame(frame: Any, instrument: Instrument) -> Any:
    """Note in ``frame.attrs`` that ``instrument`` made it (see :func:`instrument_of`); returns the frame."""
    token = f"{instrument.name}@{id(instrument):x}"
    _MADE_WITH.setdefault(token, instrument)
    frame.attrs["instrument"] = token
    return frame


def instrument_of(frame: Any, default: str | Path | Instrument | None = None) -> Instrument:
    """The instrument that made ``frame`` (:func:`tag_frame`), else :func:`load_instrument` of ``default``.

    A frame from another process, or one that lost its ``attrs`` (``pd.concat``
    of frames tagged differently), gets the default.
    """
    token = getattr(frame, "attrs", {}).get("instrument")
    made = _MADE_WITH.get(token) if isinstance(token, str) else None
    return made if made is not None else load_instrument(default)
