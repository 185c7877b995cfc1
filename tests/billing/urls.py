"""The real routes plus a stand-in for the paid work to come (predictions, jobs)."""

from django.urls import path
from rest_framework.response import Response

from billing.spend import spend_require
from maas.base_views import TenantAPIView
from maas.urls import urlpatterns as real_urlpatterns
from tenants.models import Tenant


class PaidWorkApi(TenantAPIView):
    tenant_field = "pk"
    lookup_url_kwarg = None

    def tenant_queryset(self):
        return Tenant.objects.all()

    def post(self, request):
        spend_require(request.tenant)
        return Response({"done": True}, status=201)


urlpatterns = [path("v1/_test/paid-work", PaidWorkApi.as_view()), *real_urlpatterns]
