"""The README's quickstart, run as written: its marked bash blocks (`<!-- quickstart:NAME -->`)
against a live server and worker, in a fresh folder holding only `examples/`, with the
environment the README's setup lines give (MAAS_API_KEY / MAAS_BASE_URL, KEY / API)."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import new_tenant

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("price_books")]

ROOT = Path(__file__).resolve().parents[2]
BASH = shutil.which("bash") or "/bin/bash"


def block(name: str) -> str:
    readme = (ROOT / "README.md").read_text()
    found = re.search(
        rf"<!-- quickstart:{name} -->\n```bash\n(.*?)```\n<!-- /quickstart:{name} -->", readme, re.S
    )
    assert found, f"README.md has no quickstart:{name} block"
    return found.group(1)


@pytest.fixture
def run_block(worker, serve, settings, tmp_path):
    worker()
    url = serve(MAAS_USAGE_SINK="database", MAAS_DATA_DIR=str(settings.DATA_DIR))
    key = new_tenant()["api_key"]
    (tmp_path / "examples").symlink_to(ROOT / "examples")

    def run(name: str) -> subprocess.CompletedProcess:
        env = {
            # A user's PATH with the client installed (`pip install ./client`), nothing of ours.
            "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
            "MAAS_API_KEY": key,
            "MAAS_BASE_URL": url,
            "KEY": key,
            "API": url,
        }
        script = tmp_path / f"{name}.sh"
        script.write_text(block(name))
        result = subprocess.run(
            [BASH, "-euo", "pipefail", str(script)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, (result.stdout[-3000:], result.stderr[-3000:])
        return result

    return run


def test_the_cli_quickstart_runs_as_written(run_block, tmp_path):
    out = run_block("cli").stdout
    assert "succeeded" in out and "accuracy" in out
    assert "Secret (shown once, store it now): mk_" in out
    assert (tmp_path / "churn-predictions.csv").read_text().count("\n") == 6  # header + 5


def test_the_curl_quickstart_runs_as_written(run_block, tmp_path):
    out = run_block("curl").stdout
    assert '"error"' not in out, out[-2000:]
    assert '"object":"invoice"' in out.replace(" ", "")
    assert (tmp_path / "churn-results.csv").read_text().startswith("row,prediction")


@pytest.mark.tensorflow
def test_the_image_quickstart_runs_as_written(run_block, tmp_path):
    out = run_block("images").stdout
    assert "succeeded" in out
    assert (tmp_path / "digits-predictions.csv").read_text().count("\n") == 301
