"""The version the predict path serves: read once per process while nothing changes."""

import pytest

from catalog.selectors import model_version_for_serving
from maas.generation import generation_read
from tests.factories import ModelVersionFactory

pytestmark = pytest.mark.django_db


def serving(model, version=None):
    return model_version_for_serving(
        tenant=model.tenant, model_id=model.pk, version=version, generation=generation_read()
    )


def test_the_served_version_is_cached_until_a_model_or_version_changes(
    django_assert_num_queries,
):
    model = ModelVersionFactory().model
    assert serving(model).version == 1
    with django_assert_num_queries(0):
        assert serving(model).version == 1
    ModelVersionFactory(model=model, version=2)
    model.latest_version = 2
    model.save()
    assert serving(model).version == 2
    assert serving(model, version=1).version == 1


def test_a_deleted_model_is_not_served_from_the_cache():
    model = ModelVersionFactory().model
    assert serving(model) is not None
    model.delete()
    assert serving(model) is None


def test_the_cache_is_per_tenant(other_tenant):
    model = ModelVersionFactory().model
    assert serving(model) is not None
    model.tenant = other_tenant  # the same id asked for by another tenant
    assert serving(model) is None
