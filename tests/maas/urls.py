"""The real routes plus views that exist only to exercise the plumbing."""

from django.urls import path

from maas.base_views import TenantAPIView
from maas.errors import InvalidRequest
from maas.urls import urlpatterns as real_urlpatterns
from tenants.models import ApiKey
from tests.factories import ApiKeyFactory


class BoomApi(TenantAPIView):
    """Writes a row, then fails in the way the `mode` query parameter says."""

    def tenant_queryset(self):
        return ApiKey.objects.all()

    def get(self, request):
        raise RuntimeError("secret internal detail")

    def post(self, request):
        ApiKeyFactory(tenant=request.tenant, name="written-before-failing")
        if request.query_params.get("mode") == "invalid":
            raise InvalidRequest("This request is wrong.", param="thing")
        raise RuntimeError("secret internal detail")


urlpatterns = [path("v1/_test/boom", BoomApi.as_view()), *real_urlpatterns]
