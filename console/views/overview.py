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


def usage_charts(rows, start, end) -> list[dict]:
    """One bar chart per meter in `rows` (usage_summary rows grouped by day, and maybe by model):
    quantity per day, every day from start to end shown."""
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    by_meter: dict[str, dict] = {}
    for row in rows:
        per_day = by_meter.setdefault(row.meter, {})
        quantity, amount = per_day.get(row.day, (0, 0))
        per_day[row.day] = (quantity + row.quantity, amount + row.amount)
    charts = []
    for meter, per_day in by_meter.items():
        points = [(d.strftime("%b %d"), float(per_day.get(d, (0, 0))[0])) for d in days]
        charts.append(
            {
                "meter": meter,
                "unit": METERS[meter].unit,
                "chart": bar_chart(points),
                "quantity": sum(q for q, _ in per_day.values()),
                "amount": sum(a for _, a in per_day.values()),
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
                charts=usage_charts(
                    usage_summary(
                        tenant=tenant, start=month_start, end=today, group_by={"meter", "day"}
                    ),
                    month_start,
                    today,
                ),
                month_start=month_start,
                jobs=jobs,
                failures=failures[:RECENT],
            ),
        )
