"""Bench-only routes: the same tiny answer through each layer of the stack."""

from django.http import JsonResponse
from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from maas.base_views import TenantAPIView
from tenants.models import Tenant


def plain_view(request):
    return JsonResponse({"ok": True})


class BareDrfView(APIView):
    authentication_classes: list = []
    permission_classes: list = []

    def get(self, request):
        return Response({"ok": True})


class TenantView(TenantAPIView):
    tenant_field = "pk"
    lookup_url_kwarg = None

    def tenant_queryset(self):
        return Tenant.objects.all()

    def get(self, request):
        return Response({"ok": True, "tenant": request.tenant.pk})

    def post(self, request):
        return Response({"ok": True, "tenant": request.tenant.pk}, status=201)


urlpatterns = [
    path("plain", plain_view),
    path("drf", BareDrfView.as_view()),
    path("tenant", TenantView.as_view()),
]
