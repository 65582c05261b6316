"""A folder of article files as `newslens predict` input: every .txt, .text or .md file under it (subfolders
included, hidden files and folders left out) is one row, in the order of its relative path, with that path as
its id. Each file is read as one article, as `newslens predict ARTICLE.txt` reads it: its first line is the
headline when a blank line follows it. A file that cannot be read or is too big becomes an error row."""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Iterator, Sequence

from model.errors import InputError
from serve.batch_read import Columns, InputRow
from serve.single import SINGLE_SUFFIXES, read_capped


def _dangling(path: Path) -> bool:
    """A link whose target is missing: listed as an article file so that it becomes an error row."""
    return path.is_symlink() and not path.exists()


def article_files(folder: Path) -> list[Path]:
    """The article files under ``folder``, sorted by their path relative to it. A link to nowhere is listed too, so
    that it becomes a row with an error rather than vanishing; a link to a folder is not followed."""
    found = [p for p in folder.rglob("*") if p.suffix.lower() in SINGLE_SUFFIXES
             and not any(part.startswith(".") for part in p.relative_to(folder).parts)
             and (p.is_file() or _dangling(p))]
    return sorted(found, key=lambda p: p.relative_to(folder).as_posix())


def check_folder(folder: Path, columns: Columns) -> list[Path]:
    """Fatal problems of a folder input: column options (files have no columns), or no article file in it.
    Returns its article files (article_files)."""
    if columns != Columns():
        raise InputError(f"{folder}: a folder of article files has no columns; leave out --text-column, "
                         "--headline-column, --claims-column and --id-column (each file's first line is its "
                         "headline when a blank line follows it, and its path is its id)")
    files = article_files(folder)
    if not files:
        raise InputError(f"{folder}: no article files in this folder (looked for {', '.join(SINGLE_SUFFIXES)}, "
                         "subfolders included)")
    return files


def folder_fingerprint(folder: Path, files: Sequence[Path] | None = None) -> str:
    """Changes when a file is added, removed, renamed or rewritten, so a resumed run reads the same rows.
    ``files``: the folder's article files when the caller has listed them already."""
    digest = hashlib.sha256()
    for path in article_files(folder) if files is None else files:
        stat = path.lstat() if _dangling(path) else path.stat()
        # surrogateescape: a file name that is not UTF-8 (latin-1 bytes, say) is hashed as its bytes
        digest.update(f"{path.relative_to(folder).as_posix()}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode(
            "utf-8", "surrogateescape"))
    return digest.hexdigest()


def _read_row(row: int, path: Path, folder: Path) -> InputRow:
    name = path.relative_to(folder).as_posix()  # an id every output format can write, whatever the name's bytes
    item = InputRow(row=row, id=name.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))
    try:
        with path.open("rb") as handle:
            item.article = read_capped(handle, item.id)  # the analyzer decodes it and names a wrong encoding
    except OSError as err:
        item.error = f"cannot read the file ({err.strerror or type(err).__name__})"
    except InputError as err:
        item.error = str(err)
    return item


def folder_chunks(folder: Path, chunk_size: int, skip: int = 0,
                  files: Sequence[Path] | None = None) -> Iterator[list[InputRow]]:
    """Rows after the first ``skip``, ``chunk_size`` files at a time; memory holds one chunk of files.
    ``files``: the folder's article files when the caller has listed them already."""
    files = article_files(folder) if files is None else files
    for start in range(skip, len(files), chunk_size):
        yield [_read_row(row, files[row], folder) for row in range(start, min(start + chunk_size, len(files)))]
