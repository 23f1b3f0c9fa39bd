"""``prompt.load``'s file reading: real CSV quoting in TSV and CSV files, located errors.

Issue 19: TSVs were read with ``csv.QUOTE_NONE``, so a file as pandas writes it (a text with a
newline, tab or quote is quoted, inner quotes doubled) broke at the first such row with
"missing ['label'] (fields found: ['label', 'text'])", and other rows kept literal quotes.
"""

from __future__ import annotations

import pandas as pd
import pytest

from autoglm_prompt.data import load_examples

TEXTS = [
    "a plain sentence",
    'he said "wonderful" twice',
    "a text\nover two lines",
    "a tab\tinside",
    "a comma, then more",
    '"quoted from the start" and after',
]


@pytest.mark.parametrize("suffix, sep", [(".tsv", "\t"), (".csv", ",")])
def test_files_written_by_pandas_read_back_exactly(tmp_path, suffix, sep):
    file = tmp_path / f"data{suffix}"
    frame = pd.DataFrame({"text": TEXTS, "label": [str(i % 2) for i in range(len(TEXTS))]})
    frame.to_csv(file, sep=sep, index=False)
    rows = load_examples(file)
    assert [r["text"] for r in rows] == TEXTS
    assert [r["label"] for r in rows] == list(frame["label"])


def test_wrong_field_count_names_file_row_line_and_column(tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("text\tlabel\nfine\t1\nno label here\n")
    with pytest.raises(
        ValueError, match=r"'bad.tsv', row 2 \(line 3\): expected 2 fields .*column 'label'"
    ):
        load_examples(bad)
    bad.write_text("text\tlabel\nfine\t1\nan unquoted\ttab\t0\n")
    with pytest.raises(ValueError, match=r"'bad.tsv', row 2 \(line 3\): expected 2 fields.*got 3"):
        load_examples(bad)


def test_unbalanced_quote_is_located(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text('text,label\nfine,1\n"never closed,0\nnext,1\nlast,0\n')
    with pytest.raises(ValueError, match=r"'bad.csv', row 2 \(lines 3-5\).*unbalanced quote"):
        load_examples(bad)


def test_missing_column_and_empty_value_are_located(tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("sentence\tlabel\nfine\t1\n")
    with pytest.raises(ValueError, match=r"'bad.tsv', header \(line 1\): expected columns"):
        load_examples(bad)
    bad.write_text("text\tlabel\nfine\t1\nempty label\t\n")
    with pytest.raises(ValueError, match=r"'bad.tsv', row 2 \(line 3\), column 'label': empty"):
        load_examples(bad)


def test_bad_jsonl_line_is_located(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "a", "label": "1"}\n{"text": "b", \n')
    with pytest.raises(ValueError, match=r"'bad.jsonl', line 2: not valid JSON"):
        load_examples(bad)
