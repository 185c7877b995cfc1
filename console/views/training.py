"""Training: a form built from the algorithms' parameter specs, and job pages that follow
progress, events and (Keras) the loss and accuracy per epoch, live."""

from typing import Any

from django.contrib import messages
from django.shortcuts import redirect, render

from catalog.selectors import dataset_get, dataset_list
from console.access import ConsoleView, admit
from console.charts import line_chart
from maas.scopes import Scope
from training.algorithms import ALGORITHMS, Param
from training.selectors import training_event_list, training_job_get, training_job_list
from training.services import training_job_create

CURVES = ("loss", "val_loss", "accuracy", "val_accuracy")


def param_value(param: Param, raw: str | None) -> Any:
    """A form field's text as the type the spec checks (which then checks its bounds); an
    empty field is the default."""
    if param.type == "bool":
        return raw == "on"
    if raw is None or raw.strip() == "":
        return param.default
    raw = raw.strip()
    try:
        if param.type == "int":
            return int(raw)
        if param.type == "float":
            return float(raw)
        if param.type == "int_list":
            return [int(part) for part in raw.replace(" ", "").split(",") if part]
    except ValueError:
        return raw  # the spec's check names the field and what it takes
    return raw


def algorithm_fields() -> list[dict]:
    out = []
    for algorithm in ALGORITHMS.values():
        fields = []
        for name, param in algorithm.params.items():
            default = param.default
            if param.type == "int_list" and isinstance(default, list):
                default = ",".join(str(v) for v in default)
            fields.append({"name": name, "spec": param, "default": default})
        out.append({"algorithm": algorithm, "fields": fields})
    return out


class TrainingView(ConsoleView):
    def get(self, request):
        chosen = dataset_get(tenant=self.tenant, dataset_id=request.GET.get("dataset", ""))
        return render(
            request,
            "console/training.html",
            self.context(
                jobs=training_job_list(tenant=self.tenant).order_by("-created_at")[:50],
                datasets=dataset_list(tenant=self.tenant).order_by("-created_at")[:200],
                chosen=chosen,
                algorithms=algorithm_fields(),
            ),
        )

    def post(self, request):
        form = request.POST
        algorithm = ALGORITHMS.get(form.get("algorithm", ""))
        params = {}
        if algorithm is not None:
            params = {
                name: param_value(param, form.get(f"{algorithm.name}.{name}"))
                for name, param in algorithm.params.items()
            }
        features = form.getlist("features") or None
        job, error = admit(
            self,
            request,
            lambda principal: training_job_create(
                tenant=principal.tenant,
                dataset=form.get("dataset", ""),
                target=form.get("target", ""),
                algorithm=form.get("algorithm", ""),
                features=features,
                params=params,
                model=form.get("model", "").strip() or None,
            ),
            scope=Scope.WRITE,
            spend_checked=True,
        )
        if error:
            messages.error(request, error)
            return redirect(f"{request.path}?dataset={form.get('dataset', '')}")
        return redirect("console:training_job", job.pk)


class TrainingColumnsView(ConsoleView):
    """The target and feature choices of a dataset (htmx swaps them in when one is chosen)."""

    def get(self, request):
        dataset = dataset_get(tenant=self.tenant, dataset_id=request.GET.get("dataset", ""))
        return render(request, "console/_columns.html", self.context(chosen=dataset))


def job_view_context(tenant, job) -> dict:
    events = list(training_event_list(tenant=tenant, job_id=job.pk).order_by("created_at"))
    curves: dict[str, list[float]] = {}
    for event in events:
        for name in CURVES:
            if isinstance(event.data.get(name), int | float):
                curves.setdefault(name, []).append(float(event.data[name]))
    return {
        "job": job,
        "events": events[-30:],
        "percent": round(job.progress * 100),
        "finished": job.status in job.FINISHED,
        "chart": line_chart(curves) if curves else None,
    }


class TrainingJobView(ConsoleView):
    def get(self, request, id):
        job = self.found(training_job_get(tenant=self.tenant, job_id=id))
        template = (
            "console/_training_live.html"
            if request.GET.get("live")
            else "console/training_job.html"
        )
        return render(request, template, self.context(**job_view_context(self.tenant, job)))
