"""Usage: per meter per day and per model over a date range, and its CSV (the API's)."""

from datetime import date, timedelta

from django.shortcuts import render
from django.utils import timezone

from billing.selectors import usage_summary
from console.access import ConsoleView, api_call
from console.charts import horizontal_bars
from console.views.overview import usage_charts

MAX_DAYS = 366


def date_range(query) -> tuple[date, date, str | None]:
    """The range asked for (default: this month so far), or the default and what was wrong."""
    today = timezone.now().date()
    start, end = today.replace(day=1), today
    try:
        if query.get("start"):
            start = date.fromisoformat(query["start"])
        if query.get("end"):
            end = date.fromisoformat(query["end"])
    except ValueError:
        return today.replace(day=1), today, "Dates are YYYY-MM-DD; showing this month."
    if end < start:
        return today.replace(day=1), today, "The end is before the start; showing this month."
    if (end - start).days >= MAX_DAYS:
        return end - timedelta(days=MAX_DAYS - 1), end, f"At most {MAX_DAYS} days at a time."
    return start, end, None


class UsageView(ConsoleView):
    def get(self, request):
        start, end, problem = date_range(request.GET)
        # One pass over the rollups, summed here both ways (per day, and per model).
        rows = usage_summary(
            tenant=self.tenant, start=start, end=end, group_by={"meter", "model", "day"}
        )
        totals: dict[tuple, list] = {}
        for row in rows:
            total = totals.setdefault((row.meter, row.model), [0, 0])
            total[0] += row.quantity
            total[1] += row.amount
        per_model = [
            {"meter": meter, "model": model, "quantity": q, "amount": a}
            for (meter, model), (q, a) in totals.items()
        ]
        by_model = {}
        for meter in ("predictions", "explanations"):
            counts = [(r["model"], float(r["quantity"])) for r in per_model if r["meter"] == meter]
            counts = [(model, q) for model, q in counts if model]
            if counts:
                by_model[meter] = horizontal_bars(counts, signed=False)[:20]
        return render(
            request,
            "console/usage.html",
            self.context(
                start=start,
                end=end,
                problem=problem,
                charts=usage_charts(rows, start, end),
                per_model=per_model,
                by_model=by_model,
                total=sum((r["amount"] for r in per_model), 0),
            ),
        )


class UsageCsvView(ConsoleView):
    def get(self, request):
        return api_call(self, request, "usage-csv")
