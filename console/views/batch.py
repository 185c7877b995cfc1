"""Batch inference jobs: create, follow progress, download results and errors (the API's own
download endpoints, run in-process)."""

from django.contrib import messages
from django.shortcuts import redirect, render

from catalog.selectors import dataset_list, model_list
from console.access import ConsoleView, admit, api_call
from inference.selectors import inference_job_list
from inference.services import inference_job_create
from maas.scopes import Scope


class BatchView(ConsoleView):
    def get(self, request):
        return render(
            request,
            "console/batch.html",
            self.context(
                jobs=inference_job_list(tenant=self.tenant).order_by("-created_at")[:50],
                models=model_list(tenant=self.tenant).order_by("-updated_at")[:200],
                datasets=dataset_list(tenant=self.tenant).order_by("-created_at")[:200],
            ),
        )

    def post(self, request):
        version = request.POST.get("version", "").strip() or None
        if version is not None and version.isdigit():
            version = int(version)
        job, error = admit(
            self,
            request,
            lambda principal: inference_job_create(
                tenant=principal.tenant,
                model=request.POST.get("model", ""),
                dataset=request.POST.get("dataset", ""),
                version=version,
            ),
            scope=Scope.WRITE,
            spend_checked=True,
        )
        if error:
            messages.error(request, error)
            return redirect("console:batch")
        return redirect("console:batch_job", job.pk)


class BatchJobView(ConsoleView):
    def get(self, request, id):
        job = self.found(inference_job_list(tenant=self.tenant).filter(pk=id).first())
        template = (
            "console/_batch_live.html" if request.GET.get("live") else "console/batch_job.html"
        )
        return render(
            request,
            template,
            self.context(
                job=job,
                percent=round(job.progress * 100),
                finished=job.status in job.FINISHED,
            ),
        )


class BatchDownloadView(ConsoleView):
    endpoint = "inference-job-results"

    def get(self, request, id):
        return api_call(self, request, self.endpoint, id=id)


class BatchErrorsView(BatchDownloadView):
    endpoint = "inference-job-errors"
