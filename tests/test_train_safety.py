"""``python -m chainrule train`` never destroys a model and fails early, in one line.

Saves replace a file whole or not at all; a diverging run stops at the step whose loss
is not finite and saves nothing; ``--out`` is checked before the data is loaded; a
``--load`` file is checked header by header before any array is read or unpickled.
"""

from __future__ import annotations

import errno
import io
import os
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from numpy.lib import format as npy

from chainrule.apps import cli
from chainrule.apps.models import TASKS, report, run
from chainrule.apps.models.training import TrainingError

from .test_cli import run_chainrule

OLD_MODEL = b"the parameters of an earlier run"


def quiet(*_):
    pass


def only_error_line(stderr: str) -> str:
    """The one line a failed command prints (no traceback, no warnings)."""
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


def npy_bytes(array: np.ndarray) -> bytes:
    """``array`` as an .npy file: the magic string, the header, the numbers."""
    file = io.BytesIO()
    np.save(file, array)
    return file.getvalue()


# ------------------------------------------------------------------ atomic saves
def test_write_atomically_replaces_the_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "model.npz"
    target.write_bytes(OLD_MODEL)
    assert report.write_atomically(target, lambda file: file.write(b"new")) == target
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]


def test_a_write_that_fails_half_way_leaves_the_old_file_whole(tmp_path):
    target = tmp_path / "model.npz"
    target.write_bytes(OLD_MODEL)

    def full_disk(file):
        file.write(b"PK\x03\x04 half of a new file")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        report.write_atomically(target, full_disk)
    assert target.read_bytes() == OLD_MODEL
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]


def test_a_run_on_a_full_disk_is_one_error_line_and_keeps_the_previous_model(monkeypatch, capsys, tmp_path):
    (tmp_path / "relu-neuron.npz").write_bytes(OLD_MODEL)

    def full_disk(file, **arrays):
        file.write(b"PK\x03\x04 half of a new file")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "savez", full_disk)
    assert cli.main(["train", "relu-neuron", "--epochs", "1", "--out", str(tmp_path)]) == 1
    line = only_error_line(capsys.readouterr().err)
    assert line == f"chainrule train: error: cannot save into {tmp_path}: [Errno 28] No space left on device"
    assert (tmp_path / "relu-neuron.npz").read_bytes() == OLD_MODEL
    assert [p.name for p in tmp_path.iterdir()] == ["relu-neuron.npz"]


def test_a_crash_before_the_rename_keeps_the_previous_model_and_no_temporary(monkeypatch, tmp_path):
    (tmp_path / "relu-neuron.npz").write_bytes(OLD_MODEL)

    def crash(source, target):
        raise KeyboardInterrupt

    monkeypatch.setattr(report.os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        run(TASKS["relu-neuron"], epochs=1, out=tmp_path, show=quiet)
    assert (tmp_path / "relu-neuron.npz").read_bytes() == OLD_MODEL
    assert [p.name for p in tmp_path.iterdir()] == ["relu-neuron.npz"]


def test_a_run_replaces_the_previous_files_in_a_folder_it_makes(tmp_path):
    out = tmp_path / "new" / "folder"
    result = run(TASKS["relu-neuron"], epochs=1, out=out, show=quiet)
    first = (out / "relu-neuron.npz").read_bytes()
    run(TASKS["relu-neuron"], epochs=2, out=out, show=quiet)
    assert (out / "relu-neuron.npz").read_bytes() != first
    assert sorted(p.name for p in out.iterdir()) == sorted(f.name for f in result.files)


# ------------------------------------------------------------------ divergence
def test_a_diverging_run_stops_at_that_step_exits_1_and_saves_nothing(tmp_path):
    (tmp_path / "mlp-digits.npz").write_bytes(OLD_MODEL)
    result = run_chainrule("train", "mlp-digits", "--epochs", "2", "--lr", "1e30", "--out", str(tmp_path))
    assert result.returncode == 1
    assert only_error_line(result.stderr) == (
        "chainrule train: error: the training loss became nan at "
        "epoch 1, step 2; try a smaller --lr (now 1e+30)"
    )
    assert "epoch 1/2:" not in result.stdout  # stopped inside the first epoch
    assert (tmp_path / "mlp-digits.npz").read_bytes() == OLD_MODEL
    assert [p.name for p in tmp_path.iterdir()] == ["mlp-digits.npz"]


def test_an_infinite_loss_stops_the_run_too(tmp_path):
    with pytest.raises(
        TrainingError,
        match=r"^the training loss became inf at epoch 1, step \d+; "
        r"try a smaller --lr \(now 1e\+10\)$",
    ):
        run(TASKS["relu-neuron"], lr=1e10, out=tmp_path, show=quiet)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "setting", [{"lr": float("nan")}, {"lr": float("inf")}, {"epochs": 0}, {"batch_size": -1}]
)
def test_run_refuses_settings_that_are_not_finite_and_positive(setting):
    with pytest.raises(ValueError, match="must be a finite number > 0"):
        run(TASKS["relu-neuron"], **setting, show=quiet)


# ------------------------------------------------------------------ --out
def test_an_out_under_a_regular_file_is_one_usage_error_with_status_2(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    for out in (tmp_path / "file", tmp_path / "file" / "out"):
        result = run_chainrule("train", "relu-neuron", "--epochs", "1", "--out", str(out))
        assert result.returncode == 2
        assert only_error_line(result.stderr) == (
            f"chainrule train: error: argument --out: cannot save "
            f"into {out}: {tmp_path / 'file'} is not a folder"
        )
        assert result.stdout == ""


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root writes anywhere")
def test_a_read_only_out_is_a_usage_error(capsys, tmp_path):
    (tmp_path / "read-only").mkdir(mode=0o500)
    assert cli.main(["train", "relu-neuron", "--out", str(tmp_path / "read-only" / "out")]) == 2
    assert "Permission denied" in only_error_line(capsys.readouterr().err)


def test_out_is_checked_before_the_data_is_loaded(monkeypatch, capsys, tmp_path):
    (tmp_path / "file").write_text("not a folder")
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)  # loading the digits would fail (status 1)
    assert cli.main(["train", "mlp-digits", "--out", str(tmp_path / "file" / "out")]) == 2
    assert "argument --out" in only_error_line(capsys.readouterr().err)


def test_bench_checks_json_before_the_run(capsys, tmp_path):
    (tmp_path / "file").write_text("not a folder")
    assert cli.main(["bench", "--json", str(tmp_path / "file" / "results.json")]) == 2
    assert only_error_line(capsys.readouterr().err) == (
        f"chainrule bench: error: argument --json: {tmp_path / 'file'} is not a folder"
    )


def test_ctrl_c_is_one_line_and_status_130(monkeypatch, capsys):
    from chainrule.apps import demo

    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.setattr(demo, "main", interrupted)
    try:
        status = cli.main(["demo"])
    except KeyboardInterrupt:  # escaping, it would stop pytest itself
        pytest.fail("Ctrl-C escaped cli.main")
    assert status == 130
    assert only_error_line(capsys.readouterr().err) == "chainrule demo: error: interrupted"


# ------------------------------------------------------------------ --load
@pytest.fixture(scope="module")
def relu_state():
    """The parameters of a relu-neuron model, as saved by a run."""
    task = TASKS["relu-neuron"]
    return task.build(task.load(), np.random.default_rng(0)).state_dict()


class WritesAFileWhenUnpickled:
    """Unpickling this object creates the file ``marker`` (so a test can see whether it was)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return open, (str(self.marker), "w")


def empty(path: Path, state: dict, tmp_path: Path) -> str:
    path.write_bytes(b"")
    return "File is not a zip file"


def truncated(path: Path, state: dict, tmp_path: Path) -> str:
    np.savez(path, **state)
    path.write_bytes(path.read_bytes()[:-100])
    return "File is not a zip file"


def random_bytes(path: Path, state: dict, tmp_path: Path) -> str:
    # behind a zip signature, so that it is taken for an .npz, not for a pickle or an .npy
    path.write_bytes(b"PK\x03\x04" + np.random.default_rng(0).bytes(2000))
    return "File is not a zip file"


def foreign(path: Path, state: dict, tmp_path: Path) -> str:
    np.savez(path, weights=np.zeros(3))
    return (
        "does not hold the parameters of relu-neuron: missing ['linear.bias', 'linear.weight'], "
        "unexpected ['weights']"
    )


def wrong_dtype(path: Path, state: dict, tmp_path: Path) -> str:
    np.savez(path, **{name: value.astype(np.float64) for name, value in state.items()})
    return (
        "does not hold the parameters of relu-neuron: linear.weight is float64 (1, 10) in the file "
        "but float32"
    )


def pickled_objects(path: Path, state: dict, tmp_path: Path) -> str:
    objects = np.empty(state["linear.weight"].shape, dtype=object)
    objects[...] = WritesAFileWhenUnpickled(tmp_path / "unpickled")
    np.savez(path, **{**state, "linear.weight": objects})
    return "linear.weight.npy holds Python objects (dtype object), which are never unpickled"


def absurd_size(path: Path, state: dict, tmp_path: Path) -> str:
    members = {name: npy_bytes(value) for name, value in state.items()}
    header = io.BytesIO()
    npy.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)})
    members["linear.weight"] = header.getvalue() + bytes(64)  # 8 TB declared, 64 bytes held
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(f"{name}.npy", data)
    return (
        "linear.weight.npy is damaged: its header declares float64 (1000000000000,), "
        "8,000,000,000,000 bytes, but it holds 64"
    )


def missing(path: Path, state: dict, tmp_path: Path) -> str:
    return "No such file or directory"


@pytest.mark.parametrize(
    "make", [empty, truncated, random_bytes, foreign, wrong_dtype, pickled_objects, absurd_size, missing]
)
def test_a_bad_load_file_is_one_error_line_naming_it_with_status_1(relu_state, tmp_path, make):
    path = tmp_path / "saved.npz"
    what = make(path, relu_state, tmp_path)
    result = run_chainrule("train", "relu-neuron", "--load", str(path), "--out", str(tmp_path / "out"))
    assert result.returncode == 1
    line = only_error_line(result.stderr)
    assert line.startswith("chainrule train: error:") and str(path) in line and what in line
    assert not (tmp_path / "unpickled").exists()
    assert not (tmp_path / "out").exists()


def test_a_good_load_file_loads_and_out_is_not_checked_when_nothing_is_written(relu_state, tmp_path):
    np.savez(tmp_path / "saved.npz", **relu_state)
    (tmp_path / "file").write_text("not a folder")
    loaded = run(TASKS["relu-neuron"], load=tmp_path / "saved.npz", out=tmp_path / "file" / "out", show=quiet)
    assert loaded.history == [] and loaded.files == [] and "R²" in loaded.metrics
