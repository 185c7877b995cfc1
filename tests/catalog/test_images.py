"""Image datasets: ZIP uploads checked member by member (catalog.images)."""

import io
import zipfile

import pytest

from tests.helpers import assert_error, digits_zip, png_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def send(api):
    def send(content: bytes, name: str = "digits.zip"):
        from django.core.files.uploadedfile import SimpleUploadedFile

        return api.post(
            "/v1/datasets", {"file": SimpleUploadedFile(name, content)}, format="multipart"
        )

    return send


def test_a_digits_archive_is_an_image_dataset(send):
    answer = send(digits_zip(extra={"__MACOSX/3/._0001.png": b"junk", "3/.DS_Store": b"x"}))
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert body["format"] == "images" and body["n_rows"] == 1797
    assert [(c["name"], c["dtype"]) for c in body["columns"]] == [
        ("image", "image"),
        ("label", "string"),
    ]
    images = body["images"]
    assert (images["width"], images["height"], images["channels"]) == (8, 8, 1)
    assert len(images["classes"]) == 10 and sum(images["classes"].values()) == 1797


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("members", "member", "fragment"),
    [
        ({"cat/1.png": png_bytes(), "../x.png": png_bytes()}, "../x.png", "leaves"),
        ({"cat/1.png": png_bytes(), "/etc/x.png": png_bytes()}, "/etc/x.png", "leaves"),
        ({"cat/1.png": png_bytes(), "cat/2.png": png_bytes()[:40]}, "cat/2.png", "decoded"),
        ({"cat/1.png": b"not an image at all"}, "cat/1.png", "decoded"),
        ({"x.png": png_bytes()}, "x.png", "class folder"),
        ({"cat/huge.png": png_bytes(5000, 5000, 0)}, "cat/huge.png", "pixels"),
        ({"cat/1.png": png_bytes(), "cat/bomb.png": b"\0" * 30_000_000}, "cat/bomb.png", "larger"),
    ],
)
def test_bad_members_are_400_naming_the_member(send, members, member, fragment):
    error = assert_error(send(_zip(members)), 400, "invalid_request_error")
    assert error["param"] == "file" and repr(member) in error["message"], error
    assert fragment in error["message"]


def test_an_archive_that_expands_past_ten_times_the_limit_is_400(send, tenant, settings):
    settings.MAAS_IMAGE_MAX_BYTES = 10**9  # so the archive's own bound is the one reached
    limit = tenant.limits.max_upload_bytes
    members = {"cat/1.png": png_bytes(), "cat/zeros.png": b"\0" * (10 * limit + 1)}
    error = assert_error(send(_zip(members)), 400, "invalid_request_error")
    assert "'cat/zeros.png'" in error["message"] and "10x" in error["message"]


def test_not_a_zip_and_an_empty_one(send):
    error = assert_error(send(b"PK\x03\x04 broken", "x.zip"), 400, "invalid_request_error")
    assert "ZIP" in error["message"]
    error = assert_error(send(_zip({"__MACOSX/a": b"1"})), 400, "invalid_request_error")
    assert "no images" in error["message"]


def test_image_algorithms_and_tables_do_not_mix(api, send, tenant, cancer_csv):
    from tests.training.conftest import make_dataset

    images = send(digits_zip(limit=40)).json()["id"]
    table = make_dataset(tenant, cancer_csv, "cancer.csv").pk

    def train(**body):
        return api.post("/v1/training-jobs", body, format="json")

    cases = [
        (
            {"dataset": images, "target": "label", "algorithm": "random_forest_classifier"},
            "algorithm",
        ),
        ({"dataset": table, "target": "diagnosis", "algorithm": "cnn_image_classifier"}, "dataset"),
        ({"dataset": images, "target": "image", "algorithm": "cnn_image_classifier"}, "target"),
        (
            {
                "dataset": images,
                "target": "label",
                "algorithm": "cnn_image_classifier",
                "features": ["label"],
            },
            "features",
        ),
    ]
    for body, param in cases:
        error = assert_error(train(**body), 400, "invalid_request_error")
        assert error["param"] == param, error
    queued = train(dataset=images, target="label", algorithm="cnn_image_classifier")
    assert queued.status_code == 202 and queued.json()["features"] == ["image"]


def test_a_table_model_cannot_run_over_images(api, send, tenant, cancer_csv):
    from tests.inference.test_explain import trained
    from tests.training.conftest import make_dataset

    images = send(digits_zip(limit=20)).json()["id"]
    job = trained(
        api, make_dataset(tenant, cancer_csv, "c.csv"), "diagnosis", "logistic_regression"
    )
    answer = api.post(
        "/v1/inference-jobs", {"model": job.model_id, "dataset": images}, format="json"
    )
    assert assert_error(answer, 400, "invalid_request_error")["param"] == "dataset"


def test_a_stored_archive_reports_a_bad_member_instead_of_raising():
    from catalog.images import ImageError, archive_images

    archive = _zip({"a/1.png": png_bytes(), "a/2.png": png_bytes()[:30], "b/3.png": png_bytes()})
    found = list(archive_images(io.BytesIO(archive)))
    assert [(name, label) for name, label, _ in found] == [
        ("a/1.png", "a"),
        ("a/2.png", "a"),
        ("b/3.png", "b"),
    ]
    assert isinstance(found[1][2], ImageError) and "'a/2.png'" in str(found[1][2])
    assert not isinstance(found[0][2], Exception) and found[0][2].size == (8, 8)
