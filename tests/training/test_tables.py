"""training.data.tables.read_table: one message for an empty file in every format, a hint for misnamed JSON Lines."""
import json
import re

import pytest

from model.errors import InputError
from training.data.tables import read_table


def blank_files(folder):
    files = {name: folder / name for name in ("empty.csv", "empty.tsv", "empty.jsonl", "empty.json", "empty.parquet")}
    for path in files.values():
        path.write_bytes(b"")
    files["blank.jsonl"] = folder / "blank.jsonl"
    files["blank.jsonl"].write_text("\n  \n\t\n")
    files["bom.csv"] = folder / "bom.csv"
    files["bom.csv"].write_bytes(b"\xef\xbb\xbf\r\n")
    files["array.json"] = folder / "array.json"
    files["array.json"].write_text("[]\n")
    return files


def test_read_table_says_an_empty_file_is_empty_whatever_its_format(tmp_path):
    for path in blank_files(tmp_path).values():
        with pytest.raises(InputError, match=re.escape(f"{path} is empty (no rows)")):
            read_table(path, ["text", "label"])


def test_json_lines_in_a_json_file_get_a_hint_and_real_tables_still_read(tmp_path):
    rows = [{"text": "Rebels shelled the town.", "label": "war"}, {"text": "Talks resumed.", "label": "peace"}]
    lines = "".join(json.dumps(r) + "\n" for r in rows)
    (tmp_path / "rows.jsonl").write_text(lines)
    assert read_table(tmp_path / "rows.jsonl", ["text", "label"]).to_dict("records") == rows
    (tmp_path / "rows.json").write_text(json.dumps(rows))
    assert read_table(tmp_path / "rows.json", ["text", "label"]).to_dict("records") == rows
    misnamed = tmp_path / "lines.json"
    misnamed.write_text(lines)
    with pytest.raises(InputError, match=r"cannot be read as JSON .*; it holds JSON Lines \(one object per line\): "
                                         r"name it \.jsonl"):
        read_table(misnamed)
    broken = tmp_path / "broken.json"
    broken.write_text('{"text": "a",\n')
    with pytest.raises(InputError) as err:
        read_table(broken)
    assert ".jsonl" not in str(err.value)


def test_a_record_with_more_fields_than_the_header_is_refused_not_shifted(tmp_path):
    # pandas took each record's first field as a row name: the texts lost what came before their comma
    path = tmp_path / "commas.csv"
    path.write_text("body,type\nShares rose, markets cheered,business\nThe striker scored, fans celebrated,sport\n"
                    "\"Quoted, so fine\",tech\n")
    with pytest.raises(InputError, match=r"2 record\(s\) have more fields than the header's 2: line 2 \(3\), line 3 "
                                         r"\(3\)\. A text holding a comma must be quoted"):
        read_table(path, ["body", "type"])
    path.write_text("body,type\n\"Shares rose, markets cheered\",business\n\"Two\nlines\",sport\n")
    long_text = "word " * 60_000  # over the csv module's default field limit of 131,072 characters
    path.write_text(f"body,type\n\"{long_text}\",business\n")
    assert read_table(path, ["body", "type"])["body"][0] == long_text
    path.write_text("body,type\n\"Shares rose, markets cheered\",business\n\"Two\nlines\",sport\n")
    assert read_table(path, ["body", "type"]).to_dict("records") == [
        {"body": "Shares rose, markets cheered", "type": "business"}, {"body": "Two\nlines", "type": "sport"}]


def test_a_header_that_names_a_column_twice_is_refused(tmp_path):
    path = tmp_path / "twice.tsv"
    path.write_text("body\ttype\ttype\nA text\twar\tpeace\n")
    with pytest.raises(InputError, match=r"the header names column\(s\) 'type' more than once"):
        read_table(path, ["body", "type"])


def test_a_stance_row_pointing_at_a_missing_body_is_named_by_its_data_row(tmp_path):
    from training.data.stance_data import load_fnc_pair

    (tmp_path / "bodies.csv").write_text("Body ID,articleBody\n1,A body.\n")
    (tmp_path / "stances.csv").write_text("Headline,Body ID,Stance\nA claim,1,agree\nAnother,999999,agree\n")
    with pytest.raises(InputError, match=r"row 2 \(counted from 1, the first data row\) points to Body ID 999999"):
        load_fnc_pair(tmp_path / "stances.csv", tmp_path / "bodies.csv")


def test_a_missing_default_column_suggests_the_flags_for_the_file_s_own_headers(tmp_path):
    path = tmp_path / "fnc_style.csv"
    path.write_text("Headline,articleBody,Stance\nA claim,A body.,agree\n")
    with pytest.raises(InputError, match=r"missing column\(s\) 'claim', 'body', 'label'; columns present: 'Headline', "
                                         r"'articleBody', 'Stance' \(to read this file's columns: --claim-column "
                                         r"Headline --body-column articleBody --label-column Stance\)"):
        read_table(path, ["claim", "body", "label"])
    with pytest.raises(InputError) as err:  # no guess for a name of the user's own
        read_table(path, ["claim_text"])
    assert "to read this file's columns" not in str(err.value)
