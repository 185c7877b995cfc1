"""Models: versions with metrics, the confusion matrix and importances, aliases with a promote
button, ONNX download, and a playground that predicts and explains through the API's own
handlers (billed predictions, and the page says so)."""

from django.contrib import messages
from django.shortcuts import redirect, render

from catalog.selectors import (
    model_alias_moves,
    model_aliases,
    model_get,
    model_list,
    model_versions,
)
from catalog.services import model_alias_set
from console.access import ConsoleView, admit, api_call
from console.charts import horizontal_bars
from maas.scopes import Scope


class ModelListView(ConsoleView):
    def get(self, request):
        models = model_list(tenant=self.tenant).order_by("-updated_at")[:200]
        return render(request, "console/models.html", self.context(models=models))


def _confusion(evaluation: dict) -> dict | None:
    matrix = (evaluation or {}).get("validation", {}).get("confusion_matrix")
    if not matrix:
        return None
    rows = [
        {"label": label, "cells": cells, "total": sum(cells)}
        for label, cells in zip(matrix["labels"], matrix["matrix"], strict=True)
    ]
    return {"labels": matrix["labels"], "rows": rows}


class ModelDetailView(ConsoleView):
    def get(self, request, id):
        model = self.found(model_get(tenant=self.tenant, model_id=id))
        versions = list(model_versions(tenant=self.tenant, model_id=id).order_by("-version"))
        try:
            wanted = int(request.GET.get("version") or model.latest_version)
        except ValueError:
            wanted = model.latest_version
        version = next(
            (v for v in versions if v.version == wanted), versions[0] if versions else None
        )
        evaluation = version.evaluation if version else {}
        importance = (evaluation or {}).get("feature_importance") or []
        return render(
            request,
            "console/model.html",
            self.context(
                model=model,
                versions=versions,
                version=version,
                aliases=sorted(model_aliases(model=model).items()),
                moves=model_alias_moves(model=model)[:10],
                confusion=_confusion(evaluation),
                importance=horizontal_bars(
                    [(i["feature"], i["importance"]) for i in importance][:20]
                ),
                validation=(evaluation or {}).get("validation", {}),
            ),
        )


class ModelAliasView(ConsoleView):
    """Promote: point an alias (e.g. production) at a version."""

    def post(self, request, id):
        model = self.found(model_get(tenant=self.tenant, model_id=id))
        name = request.POST.get("alias", "").strip()
        try:
            version = int(request.POST.get("version", ""))
        except ValueError:
            messages.error(request, "Choose a version to point the alias at.")
            return redirect("console:model", id)
        _, error = admit(
            self,
            request,
            lambda principal: model_alias_set(
                model=model, name=name, version=version, actor=principal.key_id
            ),
            scope=Scope.WRITE,
        )
        if error:
            messages.error(request, error)
        else:
            messages.success(request, f"{name} now points at version {version}.")
        return redirect(f"/console/models/{id}?version={version}")


class ModelPredictView(ConsoleView):
    """The playground's predict and explain: the API's handlers on the same JSON body."""

    endpoint = "model-predict"

    def post(self, request, id):
        return api_call(self, request, self.endpoint, id=id)


class ModelExplainView(ModelPredictView):
    endpoint = "model-explain"


class ModelOnnxView(ConsoleView):
    def get(self, request, id, n):
        return api_call(self, request, "model-version-onnx", id=id, n=n)
