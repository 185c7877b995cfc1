import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.services import dataset_create


def breast_cancer_csv() -> bytes:
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer(as_frame=True)
    frame = data.frame.rename(columns=lambda c: c.replace(" ", "_"))
    frame["diagnosis"] = frame.pop("target").map({0: "malignant", 1: "benign"})
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue().encode()


def make_dataset(tenant, content: bytes, name: str = "data.csv"):
    return dataset_create(
        tenant=tenant, upload=SimpleUploadedFile(name, content), name=name, sha256="0" * 64
    )


@pytest.fixture
def cancer_dataset(tenant, cancer_csv, settings):
    settings.MAAS_USAGE_SINK = "database"
    return make_dataset(tenant, cancer_csv, "cancer.csv")
