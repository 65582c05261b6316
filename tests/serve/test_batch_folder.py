"""`newslens predict FOLDER -o OUT`: every article file under a folder is one row (tiny models)."""
from __future__ import annotations

from pathlib import Path

from model.labels import EVENT_LABELS
from tests.serve.test_batch import GOOD, model_flags


def write_folder(root: Path) -> Path:
    folder = root / "news"
    (folder / "world").mkdir(parents=True)
    (folder / ".git").mkdir()
    (folder / "a.txt").write_text(GOOD, encoding="utf-8")
    (folder / "b.md").write_bytes(b"Caf\xe9 owners protest new tax in the city centre.")  # Latin-1, not UTF-8
    (folder / "c.txt").write_text("   \n", encoding="utf-8")
    (folder / "world" / "d.TXT").write_text("Quake hits\n\nAn earthquake shook the coast on Monday.", encoding="utf-8")
    (folder / "notes.csv").write_text("article\nnot an article file\n", encoding="utf-8")
    (folder / ".hidden.txt").write_text(GOOD, encoding="utf-8")
    (folder / ".git" / "e.txt").write_text(GOOD, encoding="utf-8")
    return folder


def test_every_article_file_is_one_row_with_its_path_as_id(tiny_models, tmp_path, read_output):
    from serve.cli import main

    folder = write_folder(tmp_path)
    output = tmp_path / "out.jsonl"
    assert main(["predict", str(folder), "-o", str(output), "--chunk-size", "3", *model_flags(tiny_models)]) == 1
    rows = read_output(output)
    assert [r["id"] for r in rows] == ["a.txt", "b.md", "c.txt", "world/d.TXT"]
    assert [r["row"] for r in rows] == [0, 1, 2, 3]
    good, latin1, empty, quake = rows
    assert good["error"] is None and good["headline"] == "Floods hit Lagos" and good["claims"] == ["Floods hit Lagos"]
    assert good["event_label"] in EVENT_LABELS and good["summary"]
    assert "not valid UTF-8" in latin1["error"] and latin1["event_label"] is None
    assert "empty" in empty["error"]
    assert quake["error"] is None and quake["headline"] == "Quake hits"


def test_folder_problems_are_fatal_before_any_model_runs(tiny_models, tmp_path, capsys):
    from serve.cli import main

    flags = model_flags(tiny_models)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "table.csv").write_text("article\nx\n", encoding="utf-8")
    assert main(["predict", str(empty), "-o", str(tmp_path / "a.jsonl"), *flags]) == 2
    assert "no article files" in capsys.readouterr().err
    folder = write_folder(tmp_path)
    assert main(["predict", str(folder), "-o", str(tmp_path / "b.jsonl"), "--id-column", "id", *flags]) == 2
    assert "has no columns" in capsys.readouterr().err
    assert main(["predict", str(folder), *flags]) == 2
    assert "give -o/--output" in capsys.readouterr().err
    dotted = tmp_path / "articles.txt"  # a folder whose name looks like one article
    dotted.mkdir()
    (dotted / "one.txt").write_text(GOOD, encoding="utf-8")
    assert main(["predict", str(dotted), "-o", str(tmp_path / "c.jsonl"), *flags]) == 0
    assert not (tmp_path / "a.jsonl").exists() and not (tmp_path / "b.jsonl").exists()


def test_a_resumed_folder_run_refuses_a_changed_folder(tmp_path):
    from serve.batch_folder import folder_chunks, folder_fingerprint

    folder = write_folder(tmp_path)
    before = folder_fingerprint(folder)
    assert [r.id for chunk in folder_chunks(folder, 2, skip=1) for r in chunk] == ["b.md", "c.txt", "world/d.TXT"]
    (folder / "world" / "e.txt").write_text(GOOD, encoding="utf-8")
    assert folder_fingerprint(folder) != before


def test_a_link_to_nowhere_is_a_row_with_an_error_not_dropped(tiny_models, tmp_path, read_output):
    from serve.cli import main

    folder = write_folder(tmp_path)
    (folder / "broken.txt").symlink_to(tmp_path / "nowhere.txt")
    (folder / "linked").symlink_to(folder / "world", target_is_directory=True)  # a linked folder is not followed
    output = tmp_path / "out.jsonl"
    assert main(["predict", str(folder), "-o", str(output), *model_flags(tiny_models)]) == 1
    rows = {r["id"]: r for r in read_output(output)}
    assert sorted(rows) == ["a.txt", "b.md", "broken.txt", "c.txt", "world/d.TXT"]
    assert "cannot read the file" in rows["broken.txt"]["error"] and rows["broken.txt"]["event_label"] is None
