"""The real routes plus views that exist only to exercise the plumbing."""

from django.urls import path

from maas.admission import Result, json_response
from maas.base_views import TenantAPIView
from maas.errors import InvalidRequest
from maas.lean_views import lean_tenant_view
from maas.scopes import Scope
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


lean_runs: list[str] = []


@lean_tenant_view(methods=("POST",), scope=Scope.PREDICT)
def lean_admitting(request, principal):
    """Notes what each run trusted; the pipeline admits it after the run."""
    lean_runs.append(request.maas_generation)
    return Result(json_response(200, {"runs": len(lean_runs)}))


urlpatterns = [
    path("v1/_test/boom", BoomApi.as_view()),
    path("v1/_test/lean", lean_admitting),
    *real_urlpatterns,
]
