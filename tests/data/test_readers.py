"""Reading exports: encodings, separators, decimal commas, Excel, Qualtrics headers."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from openpyxl import Workbook

from helpers.data.readers import ExportError, decode_bytes, parse_numbers, read_export


def test_utf8_bom_semicolon(tmp_path):
    p = tmp_path / "a.csv"
    p.write_bytes("\ufeffNimi;Arvo\nMäkelä;4,5\nÅström;3\n".encode("utf-8"))
    raw = read_export(p)
    assert raw.encoding == "utf-8-sig" and raw.delimiter == ";"
    assert list(raw.frame.columns) == ["Nimi", "Arvo"]
    assert raw.frame["Nimi"].tolist() == ["Mäkelä", "Åström"]


def test_cp1252_is_detected_not_mojibake(tmp_path):
    p = tmp_path / "a.csv"
    p.write_bytes("nimi;kommentti\nMäkelä;Erinomaista työtä, kiitos – jatketaan\n".encode("cp1252"))
    raw = read_export(p)
    assert raw.encoding == "cp1252"
    assert raw.frame.iloc[0].tolist() == ["Mäkelä", "Erinomaista työtä, kiitos – jatketaan"]


def test_double_encoded_utf8_is_refused(tmp_path):
    p = tmp_path / "a.csv"
    p.write_bytes("nimi\nMäkelä\n".encode("utf-8").decode("cp1252").encode("utf-8"))
    with pytest.raises(ExportError, match="converted to UTF-8 twice"):
        read_export(p)


def test_binary_file_is_refused(tmp_path):
    p = tmp_path / "a.csv"
    p.write_bytes(b"\x00\x01\x02binary\x00" * 10)
    with pytest.raises(ExportError, match="binary data"):
        read_export(p)


def test_utf16_with_bom(tmp_path):
    p = tmp_path / "a.csv"
    p.write_bytes("a\tb\nä\tö\n".encode("utf-16"))
    raw = read_export(p)
    assert raw.frame.iloc[0].tolist() == ["ä", "ö"]


@pytest.mark.parametrize("content,msg", [(b"", "is empty"), (b"   \n\n", "is empty"), (b"a;b;c\n", "no data rows")])
def test_empty_and_header_only(tmp_path, content, msg):
    p = tmp_path / "a.csv"
    p.write_bytes(content)
    with pytest.raises(ExportError, match=msg):
        read_export(p)


def test_missing_path(tmp_path):
    with pytest.raises(ExportError, match="does not exist"):
        read_export(tmp_path / "nope.csv")


def test_row_wider_than_header(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text("a,b\n1,2\n1,2,3\n", encoding="utf-8")
    with pytest.raises(ExportError, match="cells but the header has 2"):
        read_export(p)


def test_qualtrics_three_header_rows(tmp_path):
    p = tmp_path / "q.csv"
    rows = [["ResponseId", "Q1"], ["Response ID", "The partner delivers on time."],
            [json.dumps({"ImportId": "_recordId"}), json.dumps({"ImportId": "QID1"})], ["R_1", "4"], ["R_2", "5"]]
    pd.DataFrame(rows).to_csv(p, index=False, header=False)
    raw = read_export(p)
    assert raw.alt_headers["Q1"] == "The partner delivers on time."
    assert raw.frame["Q1"].tolist() == ["4", "5"]
    assert raw.row_number(0) == 4  # first data row is the 4th line of the file


def test_xlsx_and_merged_header(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["response_id", "nps"])
    ws.append(["R1", 9])
    ws.append(["R2", 7.0])
    p = tmp_path / "ok.xlsx"
    wb.save(p)
    raw = read_export(p)
    assert raw.frame["nps"].tolist() == ["9", "7"]
    wb = Workbook()
    ws = wb.active
    ws.append(["response_id", "Care", None])
    ws.merge_cells("B1:C1")
    ws.append(["R1", 4, 5])
    p = tmp_path / "merged.xlsx"
    wb.save(p)
    with pytest.raises(ExportError, match="merged cells"):
        read_export(p)


def test_empty_header_cell(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text("a,,c\n1,2,3\n", encoding="utf-8")
    with pytest.raises(ExportError, match=r"empty cells in column\(s\) B"):
        read_export(p)


def test_parse_numbers_decimal_comma_and_text():
    nums, bad = parse_numbers(pd.Series(["4,5", "3", " 1 200,5 ", "abc", None, "7.25"], dtype=object))
    assert nums.tolist()[:4] == [4.5, 3.0, 1200.5, pytest.approx(float("nan"), nan_ok=True)]
    assert nums.iloc[5] == 7.25
    assert bad.tolist() == [False, False, False, True, False, False]


def test_decode_bytes_prefers_utf8():
    text, enc = decode_bytes("ä".encode())
    assert (text, enc) == ("ä", "utf-8")


def test_trailing_separator_and_sep_hint(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text("a;b;\n1;2;\n3;4;\n", encoding="utf-8")
    assert list(read_export(p).frame.columns) == ["a", "b"]
    p.write_text("sep=;\na;b\n1;2,5\n", encoding="utf-8")
    raw = read_export(p)
    assert list(raw.frame.columns) == ["a", "b"] and raw.frame["b"].iloc[0] == "2,5"
    assert raw.row_number(0) == 3
    p.write_text("a;;c\n1;2;3\n", encoding="utf-8")  # a blank header with values is still an error
    with pytest.raises(ExportError, match="empty cells"):
        read_export(p)


def test_text_lines_follow_cells_that_span_lines(tmp_path):
    p = tmp_path / "q.csv"
    # Qualtrics-style: question texts (one with a line break) and import ids above the data; a comment over 3 lines
    p.write_text('ResponseId,Q1,comment\n'
                 '"Response ID","Kuinka\ntodennäköisesti…","Kommentti"\n'
                 '"{""ImportId"":""_recordId""}","{""ImportId"":""QID1""}","{""ImportId"":""QID2""}"\n'
                 'R1,9,"Hyvä.\nKiitos!\nÅsa"\n'
                 'R2,x,ok\n', encoding="utf-8")
    raw = read_export(p)
    assert [raw.row_number(i) for i in raw.frame.index] == [4, 5]  # rows as a spreadsheet shows them
    assert [raw.line_number(i) for i in raw.frame.index] == [5, 8]  # lines as a text editor shows them
    assert raw.frame["comment"].iloc[0] == "Hyvä.\nKiitos!\nÅsa"


def test_text_lines_count_the_separator_hint_line(tmp_path):
    p = tmp_path / "excel.csv"
    p.write_text('sep=;\nid;comment;score\n1;"Hyvä.\nKiitos!";5\n2;ok;4\n', encoding="utf-8")
    raw = read_export(p)
    assert [raw.row_number(i) for i in raw.frame.index] == [3, 4]
    assert [raw.line_number(i) for i in raw.frame.index] == [3, 5]


def test_blank_lines_above_the_header_are_skipped_and_counted(tmp_path):
    p = tmp_path / "blank_first.csv"
    p.write_text("\n  \nid,score\n1,5\n", encoding="utf-8")
    raw = read_export(p)
    assert raw.frame["score"].tolist() == ["5"]
    assert (raw.row_number(0), raw.line_number(0)) == (4, 4)  # two blank lines, the header, then the row


def test_ragged_row_is_named_by_its_line_in_the_file(tmp_path):
    p = tmp_path / "ragged.csv"
    p.write_text("\nsep=,\nid,score\n1,5\n2,4,9\n", encoding="utf-8")  # a blank line and the hint line above
    with pytest.raises(ExportError, match="line 5 has 3 cells but the header has 2"):
        read_export(p)
