"""``python -m dcgan.compare``: one job in every backend, and a report a person can open."""

import itertools
import json
import re
import shutil
import subprocess

import pytest

from dcgan import backend as backends
from dcgan import compare
from dcgan.weights import load_weights

pytestmark = pytest.mark.several_frameworks

TINY_JOB = ["--epochs", "1", "--num-images", "8", "--batch-size", "4", "--num-workers", "0"]
SECTIONS = ("## Losses", "## Backends", "## Sample quality", "## Final samples",
            "## Parity from the shared initial weights")


# With every framework installed, one backend is reported as missing (which keeps the test
# short and shows that path); otherwise the really missing ones are.
PRETEND_MISSING = "mxnet" if backends.available() == list(backends.BACKENDS) else None
real_missing_reason = backends.missing_reason


def _unavailable(name):
    if name == PRETEND_MISSING:
        return "pretend it is not installed"
    return real_missing_reason(name)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """A comparison of every backend on tiny data; returns (folder, exit status, the backends
    that ran, the backends reported missing)."""
    out = tmp_path_factory.mktemp("compare")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(backends, "missing_reason", _unavailable)
        status = compare.main(["--backends", ",".join(backends.BACKENDS), *TINY_JOB,
                               "--bn-init", "one", "--out", str(out)])
    ran = [n for n in backends.BACKENDS if _unavailable(n) is None]
    return out, status, ran, [n for n in backends.BACKENDS if n not in ran]


def test_the_report_has_every_section_and_every_backend(report):
    out, status, ran, missing = report
    if not ran:
        pytest.skip("no backend is installed")
    assert status == 0
    markdown = (out / "report.md").read_text()
    assert markdown.splitlines()[0].endswith(", 1 epoch"), "one epoch, not '1 epochs'"
    assert "precision fp32" in markdown, "the setup names the arithmetic"
    for section in SECTIONS:
        assert section in markdown
    for name in ran:
        row = next(line for line in markdown.splitlines() if line.startswith(f"| {name} |"))
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[1] == "ok" and float(cells[2]) > 0 and float(cells[3]) > 0
        assert cells[5] == compare_version(name) and cells[6] == "cpu"
        assert f"({name}/samples/epoch_001.png)" in markdown
    for name in missing:
        assert f"| {name} | not run: {_unavailable(name)} |" in markdown


def compare_version(name):
    from dcgan.bench import framework_version

    return framework_version(name)


def test_every_run_starts_from_the_same_weights_with_the_chosen_batchnorm_start(report):
    out, status, ran, missing = report
    weights = load_weights(out / compare.INITIAL_WEIGHTS_FILE)
    gammas = [v for net in weights.values() for k, v in net.items() if k.endswith(".gamma")]
    assert gammas and all((g == 1).all() for g in gammas)
    assert "BatchNorm scale and shift starting at 1 and 0" in (out / "report.md").read_text()


def test_the_parity_table_compares_each_pair_that_ran(report):
    out, _, ran, _ = report
    if len(ran) < 2:
        pytest.skip(f"parity needs two backends; installed here: {ran}")
    rows = compare.parity_table(out, ran)
    assert [row["pair"] for row in rows] == [f"{a} / {b}" for a, b in
                                             itertools.combinations(ran, 2)]
    for row in rows:
        assert all(value < 1e-4 for key, value in row.items() if key != "pair")
        assert f"| {row['pair']} |" in (out / "report.md").read_text()


def test_the_html_report_embeds_its_images(report):
    out, _, ran, _ = report
    page = (out / "report.html").read_text()
    # losses, quality, a grid per backend and one for the second seed
    assert page.count('src="data:image/png;base64,') == 1 + (2 + len(ran) if ran else 0)
    assert "src=\"" + "http" not in page and "<script" not in page


def test_a_backend_that_fails_is_reported_with_its_reason(tmp_path):
    name = next((n for n in backends.BACKENDS if backends.missing_reason(n) is None), None)
    if name is None:
        pytest.skip("no backend is installed")
    (tmp_path / name).mkdir()
    (tmp_path / name / "metrics.jsonl").write_text("{}\n")  # its run folder is taken
    status = compare.main(["--backends", name, *TINY_JOB, "--out", str(tmp_path)])
    assert status == 1
    markdown = (tmp_path / "report.md").read_text()
    assert re.search(rf"\| {name} \| not run: exit 2: .*already holds a training run", markdown)
    assert "No backend finished a run." in markdown


def _browser():
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_the_html_report_shows_its_images_in_a_real_browser(report, tmp_path):
    browser = _browser()
    if browser is None:
        pytest.skip("no chromium here (.ci/run installs Debian's chromium)")
    out, _, ran, _ = report
    # A copy of the report with a script that, once the page has loaded, writes into the
    # title how many images there are and how many of them decoded to real pixels.
    probe = tmp_path / "probe.html"
    probe.write_text((out / "report.html").read_text().replace("</body>", """<script>
window.addEventListener("load", () => {
  const images = [...document.images];
  const shown = images.filter(i => i.complete && i.naturalWidth > 0);
  document.title = `images ${images.length} shown ${shown.length}`;
});
</script></body>"""))
    result = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
         "--virtual-time-budget=10000", "--dump-dom", probe.as_uri()],
        capture_output=True, text=True, timeout=120)
    title = re.search(r"<title>(.*?)</title>", result.stdout)
    assert title, f"chromium printed no page: {result.stderr[-1000:]}"
    expected = 1 + (2 + len(ran) if ran else 0)
    assert title.group(1) == f"images {expected} shown {expected}"


def test_the_workers_record_what_the_table_shows(report):
    out, _, ran, _ = report
    for name in ran:
        data = json.loads((out / f"{name}.json").read_text())
        assert data["exit"] == 0 and data["peak_memory_mb"] > 100 and data["wall_seconds"] > 0


def test_the_quality_table_measures_every_run_beside_a_second_seed_and_the_noise_floor(report):
    out, _, ran, _ = report
    if not ran:
        pytest.skip("no backend is installed")
    markdown = (out / "report.md").read_text()
    section = markdown[markdown.index("## Sample quality"):markdown.index("## Final samples")]
    for label, seed in [*[(name, 0) for name in ran], (f"{ran[0]}-seed1", 1)]:
        row = next(line for line in section.splitlines() if line.startswith(f"| {label} |"))
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[1] == str(seed) and float(cells[3]) > 0 and float(cells[4]) > 0
    assert "| real images (noise floor) |" in section
    assert f"Two seeds of {ran[0]} (0 and 1)" in section
    if len(ran) > 1:
        assert "Largest gap between frameworks" in section
    assert (out / "quality.png").is_file()
    rows = [json.loads(line) for line in (out / ran[0] / "metrics.jsonl").read_text().splitlines()]
    assert all("quality" in row for row in rows)

