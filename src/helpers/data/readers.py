"""Reading raw survey exports (CSV or XLSX) into a frame of text cells.

Survey tools and Excel produce CSV files in many dialects: comma or semicolon
separators, decimal commas, UTF-8 with or without a byte-order mark, Windows
cp1252 from older Excel versions, and Qualtrics' two extra header rows.  The
reader decides all of that from the file itself and returns every cell as text,
so that validation (in :mod:`helpers.data.validation`) can say exactly which cell is wrong.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

MOJIBAKE = re.compile(r"Ã[¤¶¥„–…©¼]")
XLSX_MAGIC = b"PK\x03\x04"


class ExportError(ValueError):
    """The file as a whole cannot be read; the message says why and what to do."""


@dataclass
class RawExport:
    """One export file read as text.

    Attributes
    ----------
    frame : DataFrame
        One row per data row, one column per header, every cell a string or NA.
    file : str
        Path as given.
    alt_headers : dict
        For Qualtrics-style files, header → question text from the second header row.
    first_row : int
        Row number of the first data row as a spreadsheet shows the file (Excel
        opening the CSV, or the XLSX sheet), so that ``first_row + i`` is the
        row of frame row ``i``.
    encoding, delimiter : str
        What was detected (``delimiter`` is ``"xlsx"`` for Excel).
    lines : Series, optional
        CSV only: the line of the file, as a text editor numbers it, on which
        each frame row starts.  It differs from the row once a quoted cell
        above spans several lines (a comment with line breaks).
    """

    frame: pd.DataFrame
    file: str
    alt_headers: dict[str, str] = field(default_factory=dict)
    first_row: int = 2
    encoding: str = "utf-8"
    delimiter: str = ","
    lines: pd.Series | None = None

    def row_number(self, index: int) -> int:
        return self.first_row + int(index)

    def line_number(self, index: int) -> int | None:
        """The text line on which frame row ``index`` starts (``None`` for Excel files)."""
        return None if self.lines is None else int(self.lines[index])


def decode_bytes(data: bytes, *, name: str = "file") -> tuple[str, str]:
    """Decode an export's bytes, detecting the encoding; never returns mojibake.

    Order: BOMs (UTF-8, UTF-16), strict UTF-8, then Windows cp1252 (the legacy
    Excel encoding in Finland), then charset-normalizer's best guess for other
    legacy code pages.  Text that decodes but is visibly double-encoded UTF-8
    ("Ã¤" for "ä") is refused with an explanation.

    Returns
    -------
    (text, encoding)
    """
    if data.startswith(b"\xef\xbb\xbf"):
        text, enc = data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text, enc = data.decode("utf-16"), "utf-16"
    else:
        if b"\x00" in data[:4096]:
            raise ExportError(
                f"{name} contains binary data (NUL bytes): it is not a text CSV file. "
                "If it came from Excel, save it as 'CSV UTF-8' or pass the .xlsx file itself."
            )
        try:
            text, enc = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            try:
                text, enc = data.decode("cp1252"), "cp1252"
            except UnicodeDecodeError:
                from charset_normalizer import from_bytes

                best = from_bytes(data).best()
                if best is None:
                    raise ExportError(
                        f"{name}: cannot tell the text encoding. Save the file as 'CSV UTF-8' and try again."
                    ) from None
                text, enc = str(best), best.encoding
    if MOJIBAKE.search(text):
        sample = MOJIBAKE.search(text).group(0)
        raise ExportError(
            f"{name} contains '{sample}' where a Finnish letter (ä, ö, å) should be: the file was "
            "converted to UTF-8 twice somewhere on the way. Export it again from the survey tool."
        )
    return text.replace("\r\n", "\n").replace("\r", "\n"), enc


def _sniff_delimiter(text: str) -> str:
    head = "\n".join(text.split("\n", 20)[:20])
    try:
        return csv.Sniffer().sniff(head, delimiters=",;\t").delimiter
    except csv.Error:
        first = text.split("\n", 1)[0]
        counts = {d: first.count(d) for d in (";", ",", "\t")}
        return max(counts, key=counts.get)


def _check_headers(headers: list, name: str) -> list[str]:
    clean = []
    blanks = []
    for i, h in enumerate(headers):
        s = "" if h is None or (isinstance(h, float) and pd.isna(h)) else str(h).strip()
        if not s or s.startswith("Unnamed:"):
            blanks.append(i)
        clean.append(s)
    if blanks:
        cols = ", ".join(_col_letter(i) for i in blanks)
        raise ExportError(
            f"{name}: the header row has empty cells in column(s) {cols}. "
            "Every column needs its own header; unmerge merged header cells and fill them in."
        )
    dup = sorted({h for h in clean if clean.count(h) > 1})
    if dup:
        raise ExportError(f"{name}: the header row repeats column name(s) {dup}; every header must be unique.")
    return clean


def _col_letter(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def _is_qualtrics_meta(row: list) -> bool:
    return any(isinstance(v, str) and v.strip().startswith('{"ImportId"') for v in row)


def _finish(raw: pd.DataFrame, name: str, *, enc: str, delim: str, record_lines: np.ndarray | None = None
            ) -> RawExport:
    """Turn a header-less frame of text cells into a :class:`RawExport` (``record_lines``: CSV line of each record)."""
    if raw.empty:
        raise ExportError(f"{name} is empty: there is no header row and no data.")
    # A separator at the end of every line (Excel, Webropol) makes a last column with
    # no header and no values: drop such columns, but only when they are entirely empty.
    while raw.shape[1] > 1:
        last = raw.iloc[:, -1]
        if last.isna().all() or (last.astype(str).str.strip().isin(["", "nan", "None"])).all():
            raw = raw.iloc[:, :-1]
        else:
            break
    headers = _check_headers(list(raw.iloc[0]), name)
    alt: dict[str, str] = {}
    start = 1
    # Qualtrics: row 2 = question text, row 3 = {"ImportId": ...}.
    if len(raw) >= 3 and _is_qualtrics_meta(list(raw.iloc[2])):
        alt = {h: str(t).strip() for h, t in zip(headers, raw.iloc[1]) if isinstance(t, str) and t.strip()}
        start = 3
    frame = raw.iloc[start:].copy()
    frame.columns = headers
    frame.index = pd.RangeIndex(len(frame))
    for col in frame.columns:
        c = frame[col].astype("object")
        c = c.where(c.notna(), "").astype(str).str.strip()
        frame[col] = c.where(c != "", None).astype("object")
    keep = frame.notna().any(axis=1)
    if not keep.any():
        raise ExportError(f"{name} has a header row but no data rows.")
    # Blank lines are not data; drop them but keep the file's row numbering.
    first_row = start + 1
    lines = None if record_lines is None else pd.Series(record_lines[start:], index=frame.index)
    if not keep.all():
        frame = frame[keep]
    return RawExport(frame=frame, file=name, alt_headers=alt, first_row=first_row, encoding=enc, delimiter=delim,
                     lines=lines)


def _record_lines(raw: pd.DataFrame, text: str) -> np.ndarray:
    """The text line on which each CSV record starts: one line per record, plus the line breaks inside quotes."""
    n = len(raw)
    if text.count("\n") + (not text.endswith("\n")) <= n:  # as many lines as records: none spans lines, no scan
        return np.arange(1, n + 1)
    inside = np.zeros(n, dtype="int64")
    for col in raw.columns:
        cells = raw[col].astype("object")
        has = cells.map(lambda v: isinstance(v, str) and "\n" in v)
        if has.any():
            inside += cells.where(has, "").astype(str).str.count("\n").to_numpy(dtype="int64")
    return 1 + np.arange(n) + np.concatenate([[0], np.cumsum(inside)[:-1]])


def _read_csv_text(text: str, name: str, enc: str) -> RawExport:
    if not text.strip():
        raise ExportError(f"{name} is empty: there is no header row and no data.")
    skipped = 0  # blank lines above the header: not read, but counted in the row and line numbers
    while not text.partition("\n")[0].strip():
        text = text.partition("\n")[2]
        skipped += 1
    first, _, rest = text.partition("\n")
    hint = re.fullmatch(r'"?sep=(.)"?\s*', first)
    above = skipped + bool(hint)  # lines above the header that pandas does not see
    if hint:  # Excel's "sep=;" hint line
        delim, text = hint.group(1), rest
        if not text.strip():
            raise ExportError(f"{name} has a header row but no data rows.")
    else:
        delim = _sniff_delimiter(text)
    try:
        raw = pd.read_csv(
            io.StringIO(text), sep=delim, header=None, dtype=str, keep_default_na=False,
            na_filter=False, skip_blank_lines=False, quotechar='"', engine="c",
        )
    except pd.errors.ParserError as exc:
        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        detail = (f"line {int(m.group(2)) + above} has {m.group(3)} cells but the header has {m.group(1)}" if m
                  else str(exc))
        raise ExportError(f"{name}: {detail}; check the separator ('{delim}') or quoting.") from exc
    out = _finish(raw, name, enc=enc, delim=delim, record_lines=_record_lines(raw, text))
    out.first_row += above  # row numbers as the file shows them, blank and hint lines above included
    out.lines = out.lines + above
    return out


def _read_xlsx(path: Path, name: str) -> RawExport:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=False, data_only=True)
    except Exception as exc:  # openpyxl raises several types for damaged files
        raise ExportError(f"{name} is not a readable Excel workbook: {exc}") from exc
    ws = wb.worksheets[0]
    merged_header = [rng for rng in ws.merged_cells.ranges if rng.min_row <= 2]
    if merged_header:
        cells = ", ".join(str(r) for r in merged_header)
        raise ExportError(
            f"{name}: the header has merged cells ({cells}). Every column needs its own "
            "header cell; unmerge the cells and give each column a header."
        )
    rows = [["" if v is None else v for v in r] for r in ws.iter_rows(values_only=True)]
    while rows and not any(str(v).strip() for v in rows[-1]):
        rows.pop()
    rows = [[_xlsx_cell(v) for v in r] for r in rows]
    width = max((len(r) for r in rows), default=0)
    raw = pd.DataFrame([r + [""] * (width - len(r)) for r in rows], dtype=object)
    return _finish(raw, name, enc="xlsx", delim="xlsx")


def _xlsx_cell(v) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if hasattr(v, "isoformat"):
        return v.isoformat(sep=" ") if hasattr(v, "hour") else v.isoformat()
    return "" if v is None else str(v)


def read_export(path: str | Path) -> RawExport:
    """Read a CSV or XLSX survey export as text cells.

    Parameters
    ----------
    path : str or Path
        The export.  The format is decided by the file's content, not only its name.

    Returns
    -------
    RawExport

    Raises
    ------
    ExportError
        With a message naming the file and what to do: missing file, empty file,
        header only, unreadable encoding, merged or empty header cells.
    """
    p = Path(path)
    name = str(path)
    if not p.exists():
        raise ExportError(f"{name} does not exist (looked in {p.resolve().parent}).")
    if p.is_dir():
        raise ExportError(f"{name} is a folder, not an export file.")
    data = p.read_bytes()
    if not data.strip():
        raise ExportError(f"{name} is empty: there is no header row and no data.")
    if data.startswith(XLSX_MAGIC) or p.suffix.lower() in {".xlsx", ".xlsm"}:
        return _read_xlsx(p, name)
    if p.suffix.lower() == ".xls":
        raise ExportError(f"{name}: the old .xls format is not supported; save it as .xlsx or CSV UTF-8.")
    text, enc = decode_bytes(data, name=name)
    return _read_csv_text(text, name, enc)


_NUM_SPACES = re.compile(r"[\s\u00a0\u202f']")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")


def parse_numbers(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse text cells to numbers, accepting decimal commas and thousands spaces.

    Returns
    -------
    (numbers, bad)
        ``numbers`` is float with NaN for empty or unparseable cells; ``bad`` is a
        boolean mask of cells that had text but were not a number.
    """
    s = values.astype("object")
    present = s.notna()
    txt = s[present].astype(str).str.replace(_NUM_SPACES, "", regex=True)
    comma = txt.str.match(_DECIMAL_COMMA)
    txt = txt.where(~comma, txt.str.replace(",", ".", regex=False))
    num = pd.to_numeric(txt, errors="coerce")
    out = pd.Series(float("nan"), index=s.index, dtype="float64")
    out[present] = num.astype("float64")
    bad = present & out.isna()
    return out, bad
