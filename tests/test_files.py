"""breakout_py.files, the house's one writer: atomic replacement that keeps the previous file on a failed write,
strict JSON, and the table writer."""

import errno
import json
import math
import os

import numpy as np
import pytest

from breakout_py.errors import UserError
from breakout_py.files import (WriteError, atomic_path, atomic_write, csv_table, json_line, markdown_table,
                               write_json, write_table)


def test_strict_json_has_no_nan_and_plain_numbers(tmp_path):
    data = {"nan": float("nan"), "inf": [float("inf"), -math.inf], "np": np.float32(1.5), "arr": np.arange(3),
            "path": tmp_path / "x"}
    line = json_line(data)
    assert "NaN" not in line and "Infinity" not in line and "\n" not in line
    assert json.loads(line) == {"nan": None, "inf": [None, None], "np": 1.5, "arr": [0, 1, 2],
                                "path": str(tmp_path / "x")}
    written = write_json(tmp_path / "out" / "d.json", data)
    assert json.loads(written.read_text())["nan"] is None


def test_a_failed_write_keeps_the_previous_file_and_leaves_no_temp_file(tmp_path, monkeypatch):
    path = atomic_write(tmp_path / "spec.json", "old")

    def disk_full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(WriteError) as caught:
        atomic_write(path, "new")
    message = str(caught.value)
    assert str(path) in message and "disk is full" in message and "previous file there is untouched" in message
    assert isinstance(caught.value, UserError) and caught.value.errno == errno.ENOSPC
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["spec.json"]


def test_a_writer_that_raises_leaves_nothing_behind(tmp_path):
    with pytest.raises(RuntimeError):
        with atomic_path(tmp_path / "model.pt") as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("the writer broke")
    assert list(tmp_path.iterdir()) == []


def test_the_temporary_path_keeps_the_suffix_writers_choose_formats_by(tmp_path):
    with atomic_path(tmp_path / "dumps.npz") as tmp:
        assert tmp.suffix == ".npz" and tmp.parent == tmp_path
        np.savez(tmp, a=np.ones(2))
    assert (np.load(tmp_path / "dumps.npz")["a"] == 1).all()


def test_tables_as_csv_and_markdown(tmp_path):
    header, rows = ["name", "r2"], [["ball_x", 0.93912], ["ball_y", float("nan")], ["a|b", None]]
    assert csv_table(header, rows) == "name,r2\nball_x,0.93912\nball_y,\na|b,\n"
    assert markdown_table(header, rows).splitlines() == [
        "| name | r2 |", "|---|---|", "| ball_x | 0.9391 |", "| ball_y |  |", "| a\\|b |  |"]
    assert write_table(tmp_path / "t.csv", header, rows).read_text() == csv_table(header, rows)
    assert write_table(tmp_path / "t.md", header, rows).read_text() == markdown_table(header, rows)
    with pytest.raises(ValueError, match=r"\.csv or \.md"):
        write_table(tmp_path / "t.txt", header, rows)
