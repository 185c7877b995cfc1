"""The real routes plus a slow write, to race two requests against each other."""

import time

from django.urls import path
from rest_framework.response import Response

from maas.base_views import TenantAPIView
from maas.urls import urlpatterns as real_urlpatterns
from tenants.models import ApiKey
from tests.factories import ApiKeyFactory


class SlowWriteApi(TenantAPIView):
    def tenant_queryset(self):
        return ApiKey.objects.all()

    def post(self, request):
        key = ApiKeyFactory(tenant=request.tenant, name="slow write")
        time.sleep(float(request.data.get("seconds", 1)))
        return Response({"id": key.pk}, status=201)


urlpatterns = [path("v1/_test/slow-write", SlowWriteApi.as_view()), *real_urlpatterns]
