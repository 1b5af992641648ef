"""The notebooks: committed without outputs, and each runs top to bottom (quickly, with
DCGAN_NOTEBOOK_QUICK=1) when its framework is installed."""

from pathlib import Path

import pytest

from dcgan import backend as backends

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))
SIDE_BY_SIDE = "compare_frameworks"


def _marked(path: Path):
    """The side-by-side notebook runs every installed framework in one kernel."""
    marks = [pytest.mark.several_frameworks] if path.stem == SIDE_BY_SIDE else []
    return pytest.param(path, marks=marks, id=path.stem)


def test_there_is_a_notebook_per_framework_and_one_side_by_side():
    names = {p.stem for p in NOTEBOOKS}
    assert names == {f"dcgan_{name}" for name in backends.BACKENDS} | {SIDE_BY_SIDE}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebooks_are_committed_without_outputs(path):
    nbformat = pytest.importorskip("nbformat", reason="nbformat is in the test extra")
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, \
                f"{path.name} has outputs; clear them before committing"


def test_the_committed_notebooks_are_what_build_notebooks_writes(tmp_path, monkeypatch):
    pytest.importorskip("nbformat", reason="nbformat is in the test extra")
    import importlib.util

    script = Path(__file__).parent.parent / "notebooks" / "build_notebooks.py"
    spec = importlib.util.spec_from_file_location("build_notebooks", script)
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    monkeypatch.setattr(build, "HERE", tmp_path)
    build.main()
    for path in NOTEBOOKS:
        assert (tmp_path / path.name).read_text() == path.read_text(), \
            f"{path.name} differs from notebooks/build_notebooks.py; edit the script and rerun it"


def _needed_backend(path: Path) -> str | None:
    stem = path.stem.removeprefix("dcgan_")
    return stem if stem in backends.BACKENDS else None


@pytest.mark.parametrize("path", [_marked(p) for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(path, tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat", reason="nbformat is in the test extra")
    nbclient = pytest.importorskip("nbclient", reason="nbclient is in the test extra")
    pytest.importorskip("ipykernel", reason="ipykernel is in the test extra")
    needed = _needed_backend(path)
    if needed and backends.missing_reason(needed):
        pytest.skip(f"{needed} backend: {backends.missing_reason(needed)}")
    if not needed and not backends.available():
        pytest.skip("no backend is installed")
    monkeypatch.setenv("DCGAN_NOTEBOOK_QUICK", "1")
    monkeypatch.setenv("DCGAN_DATA_ROOT", str(tmp_path / "data"))
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError, naming the cell, when one fails
    images = [o for cell in notebook.cells if cell.cell_type == "code"
              for o in cell.outputs if "image/png" in o.get("data", {})]
    assert images, "the notebook should show its figures"
