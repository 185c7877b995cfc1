"""Datasets: list, upload with a byte progress bar, profile, first rows, thumbnails."""

from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt

from catalog.selectors import dataset_get, dataset_head, dataset_list, dataset_thumbnails
from console.access import ConsoleView, api_call, xhr_csrf_check


class DatasetListView(ConsoleView):
    def get(self, request):
        datasets = dataset_list(tenant=self.tenant).order_by("-created_at")[:200]
        return render(request, "console/datasets.html", self.context(datasets=datasets))


@method_decorator(csrf_exempt, name="dispatch")
class DatasetUploadView(ConsoleView):
    """The upload form's target (sent by console.js so that it can show the bytes sent): the
    API's own upload view run in-process for the member, so the upload limit, parsing, errors
    and usage are the API's. Answers the API's JSON.

    Django's CSRF check would parse the multipart body to look for the form's token before the
    API's upload handler (which counts and hashes the bytes as they arrive) could be set, so it
    is replaced here by `xhr_csrf_check`: the token comes in a header, which a page of another
    site cannot send."""

    def post(self, request):
        refused = xhr_csrf_check(request)
        if refused is not None:
            return refused
        return api_call(self, request, "dataset-list")


class DatasetDetailView(ConsoleView):
    def get(self, request, id):
        dataset = self.found(dataset_get(tenant=self.tenant, dataset_id=id))
        images = dataset.format == "images"
        return render(
            request,
            "console/dataset.html",
            self.context(
                dataset=dataset,
                head=None if images else dataset_head(dataset=dataset),
                thumbnails=dataset_thumbnails(dataset=dataset) if images else None,
            ),
        )
