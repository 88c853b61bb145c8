"""Read a PDF that Chromium printed: its pages' sizes and text — enough to test the batch's PDFs.

Chromium's PDF writer (Skia) stores each page's text with fonts that carry a
ToUnicode map, in Flate-compressed content streams, without object streams;
this reads exactly that, with the standard library only (the kit has no PDF
package, and the tests need none).
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

_OBJ = re.compile(rb"(\d+) 0 obj\s*(.*?)endobj", re.S)
_STREAM = re.compile(rb"stream\r?\n(.*)\r?\nendstream", re.S)
_REF = rb"(\d+) 0 R"


@dataclass
class PdfPage:
    width: float
    height: float
    text: str


def _objects(data: bytes) -> dict[int, tuple[bytes, bytes | None]]:
    """Object number → (dictionary part, decompressed stream or None)."""
    out = {}
    for m in _OBJ.finditer(data):
        body = m.group(2)
        s = _STREAM.search(body)
        stream = None
        head = body
        if s:
            head = body[: s.start()]
            stream = s.group(1)
            if b"/FlateDecode" in head:
                stream = zlib.decompress(stream)
        out[int(m.group(1))] = (head, stream)
    return out


def _cmap(stream: bytes) -> dict[bytes, str]:
    """A ToUnicode CMap: character code (bytes) → text."""
    out: dict[bytes, str] = {}

    def text(hexa: bytes) -> str:
        return bytes.fromhex(hexa.decode()).decode("utf-16-be", "replace")

    for block in re.findall(rb"beginbfchar(.*?)endbfchar", stream, re.S):
        for src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            out[bytes.fromhex(src.decode())] = text(dst)
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", stream, re.S):
        for lo, hi, rest in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*(\[[^\]]*\]|<[0-9A-Fa-f]+>)", block):
            a, b, width = int(lo, 16), int(hi, 16), len(lo) // 2
            if rest.startswith(b"["):
                for i, dst in enumerate(re.findall(rb"<([0-9A-Fa-f]+)>", rest)):
                    out[(a + i).to_bytes(width, "big")] = text(dst)
            else:
                start = int(rest[1:-1], 16)
                for i in range(b - a + 1):
                    out[(a + i).to_bytes(width, "big")] = chr(start + i)
    return out


def _decode(raw: bytes, cmap: dict[bytes, str]) -> str:
    width = max((len(k) for k in cmap), default=1)
    return "".join(cmap.get(raw[i:i + width], "") for i in range(0, len(raw), width))


def _strings(chunk: bytes) -> list[bytes]:
    """The byte strings of a ``Tj`` or ``TJ`` operand (hex ``<…>`` or literal ``(…)``)."""
    out = []
    for hexa, literal in re.findall(rb"<([0-9A-Fa-f\s]*)>|\(((?:\\.|[^\\)])*)\)", chunk):
        if hexa or not literal:
            out.append(bytes.fromhex(re.sub(rb"\s", b"", hexa).decode()))
        else:
            out.append(re.sub(rb"\\(.)", rb"\1", literal))
    return out


def read_pdf(path) -> list[PdfPage]:
    """Every page of the PDF at ``path`` with its MediaBox size (points) and its text (lines per text object)."""
    data = open(path, "rb").read()
    objects = _objects(data)

    def deref(head: bytes, key: bytes) -> bytes | None:
        """The value of ``/key`` in a dictionary: the object it refers to, or the inline ``<<…>>``."""
        m = re.search(rb"/" + key + rb"\s*(?:" + _REF + rb"|(<<))", head)
        if not m:
            return None
        if m.group(1):
            return objects[int(m.group(1))][0]
        depth, i = 0, m.start(2)
        while i < len(head):
            if head.startswith(b"<<", i):
                depth, i = depth + 1, i + 2
            elif head.startswith(b">>", i):
                depth, i = depth - 1, i + 2
                if depth == 0:
                    return head[m.start(2):i]
            else:
                i += 1
        return head[m.start(2):]

    pages = []
    for num, (head, _) in sorted(objects.items()):
        if not re.search(rb"/Type\s*/Page\b(?!s)", head):
            continue
        box = [float(x) for x in re.search(rb"/MediaBox\s*\[([^\]]*)\]", head).group(1).split()]
        resources = deref(head, b"Resources") or b""
        fonts_dict = deref(resources, b"Font") or b""
        fonts = {}
        for name, ref in re.findall(rb"/(\w+)\s+" + _REF, fonts_dict):
            font = objects[int(ref)][0]
            uni = re.search(rb"/ToUnicode\s+" + _REF, font)
            fonts[name] = _cmap(objects[int(uni.group(1))][1]) if uni else {}
        contents = re.search(rb"/Contents\s*(\[[^\]]*\]|" + _REF + rb")", head).group(1)
        streams = [objects[int(r)][1] or b"" for r in re.findall(rb"(\d+) 0 R", contents)]
        lines, current = [], {}
        for stream in streams:
            for m in re.finditer(rb"/(\w+)\s+[\d.]+\s+Tf|((?:<[0-9A-Fa-f\s]*>|\((?:\\.|[^\\)])*\))\s*Tj|\[[^\]]*\]\s*TJ)"
                                 rb"|\bET\b", stream):
                if m.group(1):
                    current = fonts.get(m.group(1), {})
                elif m.group(2):
                    lines.append("".join(_decode(s, current) for s in _strings(m.group(2))))
                else:
                    lines.append("\n")
        text = re.sub(r"\n+", "\n", "".join(x if x == "\n" else x for x in lines))
        pages.append(PdfPage(width=box[2] - box[0], height=box[3] - box[1], text=text))
    return pages
