"""docs/client.md's examples, run as written: its python blocks, in order, as one program
against a live server and worker (the webhook example's receiver on 127.0.0.1)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import new_tenant

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("price_books")]

ROOT = Path(__file__).resolve().parents[2]


def test_the_documented_examples_run(worker, serve, settings, tmp_path):
    worker()
    url = serve(
        MAAS_USAGE_SINK="database",
        MAAS_DATA_DIR=str(settings.DATA_DIR),
        MAAS_WEBHOOKS_ALLOW_PRIVATE="true",  # the example's receiver listens on 127.0.0.1
    )
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "docs" / "client.md").read_text(), re.S)
    assert len(blocks) >= 6
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    (tmp_path / "example.py").write_text("\n".join(blocks))
    result = subprocess.run(
        [sys.executable, "example.py"],
        cwd=tmp_path,
        env={"MAAS_API_KEY": new_tenant()["api_key"], "MAAS_BASE_URL": url, "PATH": "/usr/bin"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, (result.stdout[-3000:], result.stderr[-3000:])
    out = result.stdout
    assert "training_job.succeeded True" in out
    assert "rows predicted" in out and "no such model: req_" in out
    assert (tmp_path / "churn-batch.csv").read_text().startswith("row,prediction")
    assert (tmp_path / "churn.onnx").stat().st_size > 1000
