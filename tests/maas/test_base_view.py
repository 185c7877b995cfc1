import pytest

from maas.base_views import TenantAPIView


@pytest.mark.parametrize("method", ["get_queryset", "get_object", "dispatch", "initial"])
def test_overriding_the_scoping_is_refused_at_class_creation(method):
    with pytest.raises(TypeError, match="tenant_queryset"):
        type("Sneaky", (TenantAPIView,), {method: lambda self: None})


def test_a_subclass_without_overrides_is_accepted():
    class Fine(TenantAPIView):
        def tenant_queryset(self):
            return None

    assert Fine.resource_name == "object"
