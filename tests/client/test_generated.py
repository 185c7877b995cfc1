"""The client cannot drift from the server: its types are generated from docs/openapi.json, the
committed file is what the generator writes today, and every operation has a method."""

import importlib.util
import json
from pathlib import Path

from maas_client import _generated
from maas_client.resources import covered_operations

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "docs" / "openapi.json"


def _generator():
    spec = importlib.util.spec_from_file_location(
        "generate", ROOT / "client" / "scripts" / "generate.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_types_are_what_the_schema_generates():
    rendered = _generator().Generator(json.loads(SCHEMA.read_text())).render()
    committed = (ROOT / "client" / "src" / "maas_client" / "_generated.py").read_text()
    assert rendered == committed, (
        "run `make openapi` and commit client/src/maas_client/_generated.py"
    )


def test_every_operation_of_the_schema_has_a_client_method():
    document = json.loads(SCHEMA.read_text())
    in_schema = {
        operation["operationId"]
        for item in document["paths"].values()
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    }
    assert in_schema == set(_generated.OPERATIONS)
    missing = in_schema - covered_operations()
    assert not missing, f"operations no client method calls: {sorted(missing)}"


def test_types_parse_the_fields_and_keep_the_json_as_sent():
    body = {
        "id": "trj_1",
        "object": "training_job",
        "status": "succeeded",
        "progress": 1.0,
        "dataset": "ds_1",
        "algorithm": "logistic_regression",
        "params": {},
        "target": "y",
        "features": ["a"],
        "model": "mdl_1",
        "model_name": "m",
        "model_version": 1,
        "metrics": {"accuracy": 0.9},
        "error": None,
        "usage": {"compute_seconds": "1.5", "rows_processed": 10},
        "validation_split": 0.2,
        "cv_folds": None,
        "created_at": "2026-01-01T00:00:00Z",
        "started_at": None,
        "finished_at": None,
        "added_by_a_newer_server": True,
    }
    job = _generated.TrainingJob.from_json(body)
    assert job.usage.compute_seconds == "1.5"
    assert job.finished and job.metrics == {"accuracy": 0.9}
    assert job.to_dict() == body and job["added_by_a_newer_server"] is True
