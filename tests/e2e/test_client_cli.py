"""The `maas` CLI (and so the client under it) against a live server and a real worker, as a
user runs it: upload, train with --wait, predict from a CSV, a batch job with --output, usage
and invoices, in human and --json modes; a server that answers 500 twice yields one object;
a bad key exits 1 with the request id."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories import TrainingJobFactory
from tests.helpers import FaultProxy, HttpApi, new_tenant

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("price_books")]

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
MAAS = Path(sys.executable).with_name("maas")
ROW = json.dumps(
    {"age": 41, "plan": "pro", "monthly_spend": 59.5, "tenure_months": 3, "support_tickets": 5}
)


def maas(url: str, key: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Runs the installed `maas` command as a user's shell would (stderr not a terminal)."""
    return subprocess.run(
        [str(MAAS), *args],
        env={"PATH": str(MAAS.parent), "MAAS_API_KEY": key, "MAAS_BASE_URL": url},
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
    )


def ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, (result.returncode, result.stdout, result.stderr)
    return result.stdout


@pytest.fixture
def live(worker, serve, settings):
    worker()
    url = serve(MAAS_USAGE_SINK="database", MAAS_DATA_DIR=str(settings.DATA_DIR))
    return url, new_tenant()["api_key"]


def test_the_whole_flow_in_json_mode(live, tmp_path):
    url, key = live
    run = lambda *args: json.loads(ok(maas(url, key, *args, "--json")))  # noqa: E731
    dataset = run("datasets", "upload", str(EXAMPLES / "churn.csv"), "--name", "churn")
    assert dataset["object"] == "dataset" and dataset["n_rows"] == 400
    job = run(
        "train", "--dataset", dataset["id"], "--target", "churned",
        "--algorithm", "random_forest_classifier", "--param", "n_estimators=50",
        "--param", "max_depth=6", "--model", "churn", "--wait",
    )  # fmt: skip
    assert job["status"] == "succeeded" and job["params"]["n_estimators"] == 50
    assert 0.5 < job["metrics"]["accuracy"] <= 1
    HttpApi(url, key).put(f"/v1/models/{job['model']}/aliases/production", json={"version": 1})
    predicted = run(
        "predict", "churn", "--input", str(EXAMPLES / "churn-new.csv"), "--version", "production"
    )  # fmt: skip
    assert predicted["model"] == job["model"] and len(predicted["predictions"]) == 5
    assert set(predicted["predictions"]) <= {"yes", "no"}

    new = run("datasets", "upload", str(EXAMPLES / "churn-new.csv"))
    output = tmp_path / "out.csv"
    batch = run("batch", "churn", "--dataset", new["id"], "--output", str(output))
    assert batch["status"] == "succeeded" and batch["request_counts"]["completed"] == 5
    with output.open() as results:
        rows = list(csv.DictReader(results))
    assert [r["prediction"] for r in rows] == predicted["predictions"]  # as predict answered

    usage = run("usage", "--group-by", "meter,day")
    meters = {row["meter"]: row["quantity"] for row in usage["data"]}
    assert meters["predictions"] == "10"  # five by predict, five by the batch job
    invoice = run("invoices", "upcoming")
    assert invoice["object"] == "invoice" and invoice["status"] == "draft"
    assert run("invoices", "list") == []
    listed = run("datasets", "list")
    assert [d["id"] for d in listed] == [new["id"], dataset["id"]]


def test_the_whole_flow_in_human_mode(live, tmp_path):
    url, key = live
    dataset = ok(maas(url, key, "datasets", "upload", str(EXAMPLES / "churn.csv"), "-q")).strip()
    assert dataset.startswith("ds_")
    trained = maas(
        url, key, "train", "--dataset", dataset, "--target", "churned",
        "--algorithm", "logistic_regression", "--model", "churn", "--wait",
    )  # fmt: skip
    out = ok(trained)
    assert "succeeded" in out and "metrics" in out and "accuracy" in out
    assert "Training trj_" in trained.stderr
    table = ok(maas(url, key, "predict", "churn", "--input", str(EXAMPLES / "churn-new.csv")))
    assert "churn v1" in table and "p(yes)" in table
    assert len([line for line in table.splitlines() if line[:1].isdigit()]) == 5
    assert "prediction" in ok(maas(url, key, "predict", "churn", "--row", ROW))
    new = ok(maas(url, key, "datasets", "upload", str(EXAMPLES / "churn-new.csv"), "-q")).strip()
    batch = maas(url, key, "batch", "churn", "--dataset", new, "--output", "r.csv", cwd=tmp_path)
    assert "5/5 done, 0 failed" in ok(batch) and "Results written to r.csv" in batch.stderr
    assert (tmp_path / "r.csv").read_text().startswith("row,prediction")
    usage = ok(maas(url, key, "usage"))
    assert "predictions" in usage and "compute.cpu_seconds" in usage
    invoice = ok(maas(url, key, "invoices", "upcoming"))
    assert "(upcoming)" in invoice and "total" in invoice
    created = ok(maas(url, key, "keys", "create", "--name", "serving", "--scope", "predict"))
    secret = created.split("Secret (shown once, store it now): ")[1].strip()
    models = maas(url, secret, "models", "list")
    assert models.returncode == 1 and "Error 403" in models.stderr  # predict scope only
    # A serving key (predict scope only) predicts by model id, a CSV's cells read as numbers.
    model = json.loads(ok(maas(url, key, "models", "get", "churn", "--json")))["model"]["id"]
    by_id = ok(maas(url, secret, "predict", model, "--input", str(EXAMPLES / "churn-new.csv")))
    assert f"{model} v1" in by_id and "p(yes)" in by_id
    assert "yes" in ok(maas(url, secret, "predict", model, "--row", ROW, "--version", "1", "-q"))
    by_name = maas(url, secret, "predict", "churn", "--row", ROW)
    assert by_name.returncode == 1 and "give 'churn''s id (mdl_...)" in by_name.stderr


def test_a_job_that_did_not_succeed_exits_1_and_an_api_error_names_its_param(live):
    url, key = live
    tenant = HttpApi(url, key).get("/v1/tenant").json()["id"]
    queued = TrainingJobFactory(tenant_id=tenant)  # never enqueued: it waits for its cancel
    canceled = json.loads(ok(maas(url, key, "jobs", "cancel", queued.pk, "--json")))
    assert canceled["status"] == "canceled"
    waited = maas(url, key, "jobs", "wait", queued.pk)
    assert waited.returncode == 1 and f"{queued.pk} canceled" in waited.stderr
    assert "canceled" in waited.stdout  # the job is still shown
    dataset = ok(maas(url, key, "datasets", "upload", str(EXAMPLES / "churn.csv"), "-q")).strip()
    refused = maas(
        url, key, "train", "--dataset", dataset, "--target", "plan",
        "--algorithm", "linear_regression", "--wait",
    )  # fmt: skip
    assert refused.returncode == 1 and "Error 400" in refused.stderr
    assert "(param: target)" in refused.stderr and "Request id: req_" in refused.stderr


def test_two_lost_answers_then_success_make_one_object(live):
    url, key = live
    proxy = FaultProxy(url, fail_posts=2)
    try:
        uploaded = maas(proxy.url, key, "datasets", "upload", str(EXAMPLES / "churn.csv"), "-q")
        dataset = ok(uploaded).strip()
        assert [path for path, _ in proxy.posts] == ["/v1/datasets"] * 3
        assert len({idempotency for _, idempotency in proxy.posts}) == 1  # one key, three tries
        proxy.fail_posts = 2
        job = ok(
            maas(
                proxy.url, key, "train", "--dataset", dataset, "--target", "churned",
                "--algorithm", "logistic_regression", "-q",
            )
        ).strip()  # fmt: skip
        assert len({idempotency for _, idempotency in proxy.posts[3:]}) == 1
    finally:
        proxy.close()
    api = HttpApi(url, key)
    assert [d["id"] for d in api.get("/v1/datasets").json()["data"]] == [dataset]
    assert [j["id"] for j in api.get("/v1/training-jobs").json()["data"]] == [job]


def test_a_bad_key_exits_1_with_the_request_id(live):
    url, _ = live
    result = maas(url, "mk_" + "x" * 44, "datasets", "list")
    assert result.returncode == 1 and result.stdout == ""
    assert "Error 401" in result.stderr
    request_id = result.stderr.split("Request id: ")[1].split()[0]
    assert request_id.startswith("req_")
    as_json = maas(url, "mk_" + "x" * 44, "datasets", "list", "--json")
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout)["error"]["type"] == "authentication_error"


def test_a_usage_error_exits_2(live):
    url, key = live
    result = maas(url, key, "predict", "churn")
    assert result.returncode == 2 and "exactly one of --input FILE or --row JSON" in result.stderr
    assert maas(url, key, "train", "--dataset", "ds_x").returncode == 2
    assert maas(url, key, "train", "--dataset", "d", "--target", "t", "--algorithm", "a",
                "--param", "oops").returncode == 2  # fmt: skip
