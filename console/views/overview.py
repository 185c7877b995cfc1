"""Overview: month-to-date spend against the cap, usage per meter per day, jobs."""

from datetime import timedelta

from django.shortcuts import render
from django.utils import timezone

from billing.selectors import METERS, spend_check, usage_summary
from console.access import ConsoleView
from console.charts import bar_chart, gauge
from inference.selectors import inference_job_list
from maas.jobs import ACTIVE_STATUSES, JobStatus
from training.selectors import training_job_list

RECENT = 8


def usage_charts(tenant, start, end) -> list[dict]:
    """One bar chart per meter used between start and end: quantity per day (every day shown)."""
    rows = usage_summary(tenant=tenant, start=start, end=end, group_by={"meter", "day"})
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    by_meter: dict[str, dict] = {}
    for row in rows:
        by_meter.setdefault(row.meter, {})[row.day] = row
    charts = []
    for meter, per_day in by_meter.items():
        unit = METERS[meter].unit
        points = [
            (d.strftime("%b %d"), float(per_day[d].quantity) if d in per_day else 0.0) for d in days
        ]
        charts.append(
            {
                "meter": meter,
                "unit": unit,
                "chart": bar_chart(points),
                "quantity": sum(r.quantity for r in per_day.values()),
                "amount": sum(r.amount for r in per_day.values()),
            }
        )
    return charts


class OverviewView(ConsoleView):
    def get(self, request):
        tenant = self.tenant
        check = spend_check(tenant)
        today = timezone.now().date()
        month_start = today.replace(day=1)
        jobs = []
        for kind, listed in (("training", training_job_list), ("batch", inference_job_list)):
            for job in (
                listed(tenant=tenant)
                .filter(status__in=ACTIVE_STATUSES)
                .order_by("-created_at")[:RECENT]
            ):
                jobs.append((kind, job))
        failures = []
        since = timezone.now() - timedelta(days=7)
        for kind, listed in (("training", training_job_list), ("batch", inference_job_list)):
            failed = listed(tenant=tenant).filter(status=JobStatus.FAILED, finished_at__gte=since)
            for job in failed.order_by("-finished_at")[:RECENT]:
                failures.append((kind, job))
        failures.sort(key=lambda kj: kj[1].finished_at, reverse=True)
        return render(
            request,
            "console/overview.html",
            self.context(
                check=check,
                gauge=gauge(check.month_to_date, check.spend_limit),
                charts=usage_charts(tenant, month_start, today),
                month_start=month_start,
                jobs=jobs,
                failures=failures[:RECENT],
            ),
        )
