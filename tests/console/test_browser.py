"""The console in a real browser (Debian's Chromium driven by Playwright) against a real web
server and Celery worker: a member signs in, creates a key and sees it once, uploads a CSV
watching its progress bar, trains a model and watches the job reach 100 % without reloading,
reads the confusion matrix, promotes an alias, predicts in the playground, finds the prediction
counted on the usage page and downloads the upcoming invoice as a PDF that names the API's
total. Every page is photographed into var/screenshots/ (docs/img/ holds two of them).

Needs /usr/bin/chromium (`apt-get install chromium chromium-driver`; .ci/run installs it)."""

import io
import os
import shutil
from pathlib import Path

import pytest
import requests
from django.conf import global_settings
from django.core.management import call_command
from pypdf import PdfReader

from tests.factories import ApiKeyFactory, MembershipFactory

CHROMIUM = os.environ.get("MAAS_TEST_CHROMIUM", "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "var" / "screenshots"
EXAMPLES = ROOT / "examples"

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("price_books"),
    pytest.mark.skipif(
        not shutil.which(CHROMIUM),
        reason=f"needs Chromium at {CHROMIUM} (apt-get install chromium)",
    ),
]

# As the machine's notes say: no background traffic to the closed network, no sandbox as root.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser_page(monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls (made
    # before and after it drives the page) are synchronous and safe.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, accept_downloads=True
        )
        page = context.new_page()
        page.set_default_timeout(30_000)
        yield page
        context.close()
        browser.close()


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_a_member_runs_maas_from_the_console(
    settings,
    tenant,
    serve,
    worker,
    browser_page,
    tmp_path,
):
    page = browser_page
    # The server checks passwords with the default hashers (the suite's fast one is not there).
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    member = MembershipFactory(tenant=tenant, role="owner")
    billing_key = ApiKeyFactory(tenant=tenant, scopes=["read", "billing"])
    call_command("collectstatic", interactive=False, verbosity=0)
    worker()
    base = serve(MAAS_USAGE_SINK="database", MAAS_DATA_DIR=str(settings.DATA_DIR))

    # Sign in.
    page.goto(f"{base}/console/")
    page.get_by_label("Email").fill(member.user.email)
    page.get_by_label("Password").fill("member-password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Overview").wait_for()

    # A key, its secret shown once.
    page.get_by_role("link", name="API keys").click()
    page.get_by_label("Name").fill("notebook")
    page.get_by_role("button", name="Create key").click()
    secret = page.get_by_test_id("new-secret").inner_text()
    assert secret.startswith("mk_")
    shot(page, "keys")
    page.reload()
    assert secret not in page.content()
    answer = requests.get(
        f"{base}/v1/datasets", headers={"Authorization": f"Bearer {secret}"}, timeout=10
    )
    assert answer.ok

    # Upload a CSV and watch the bytes go.
    page.get_by_role("link", name="Datasets").click()
    page.set_input_files("#upload-file", str(EXAMPLES / "churn.csv"))
    page.get_by_role("button", name="Upload").click()
    page.wait_for_url("**/console/datasets/ds_*")
    page.get_by_role("heading", name="First rows").wait_for()
    shot(page, "dataset")
    assert "400 rows" in page.content()

    # Train, and watch progress reach 100 % on the same page.
    page.get_by_role("link", name="Train a model").click()
    page.wait_for_selector("#train-target")
    page.select_option("#train-target", "churned")
    page.select_option("#train-algorithm", "logistic_regression")
    page.get_by_role("button", name="Start training").click()
    page.wait_for_url("**/console/training/trj_*")
    job_url = page.url
    page.wait_for_function(
        "document.querySelector('[data-testid=job-status]').textContent === 'succeeded'",
        timeout=120_000,
    )
    assert page.url == job_url  # no reload: htmx swapped the live part in
    assert page.get_by_test_id("job-percent").inner_text() == "100 %"
    shot(page, "training_job")

    # The model: its confusion matrix, an alias promoted.
    page.get_by_role("link", name="Open the model").click()
    matrix = page.get_by_test_id("confusion-matrix")
    cells = [int(c) for c in matrix.locator("td").all_inner_texts()]
    assert len(cells) == 4 and sum(cells) == 80  # 2 classes, 20 % of 400 rows validated
    page.get_by_label("Alias").fill("production")
    page.get_by_role("button", name="Promote").click()
    page.get_by_test_id("alias-production").wait_for()
    model_id = page.url.split("/console/models/", 1)[1].split("?", 1)[0]

    # The playground: one billed prediction.
    for name, value in {
        "age": "37",
        "plan": "basic",
        "monthly_spend": "20.49",
        "tenure_months": "51",
        "support_tickets": "1",
    }.items():
        page.get_by_label(name).fill(value)
    page.get_by_role("button", name="Predict", exact=True).click()
    prediction = page.get_by_test_id("prediction").inner_text()
    assert prediction.split(": ", 1)[1] in ("yes", "no")
    shot(page, "model")

    # Counted on the usage page.
    page.get_by_role("link", name="Usage").click()
    row = page.locator(f"tr[data-meter=predictions][data-model={model_id}]")
    assert row.get_by_test_id("quantity").inner_text() == "1"
    shot(page, "usage")

    # The upcoming invoice's PDF names the API's total.
    page.get_by_role("link", name="Invoices").click()
    shot(page, "invoices")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF").click()
    pdf_path = tmp_path / "upcoming.pdf"
    download.value.save_as(pdf_path)
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf_path.read_bytes())).pages)
    upcoming = requests.get(
        f"{base}/v1/invoices/upcoming",
        headers={"Authorization": f"Bearer {billing_key.raw}"},
        timeout=10,
    ).json()
    assert f"Total {upcoming['total']} USD" in text

    # A spend cap, which the overview then draws as a gauge.
    page.get_by_role("link", name="Settings").click()
    page.get_by_label("Monthly cap (USD)").fill("50.00")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Spend cap set to 50.00.").wait_for()

    # The rest of the pages, photographed.
    for name, link in [
        ("batch", "Batch jobs"),
        ("settings", "Settings"),
        ("models", "Models"),
        ("training", "Training"),
        ("datasets", "Datasets"),
        ("overview", "Overview"),
    ]:
        page.get_by_role("link", name=link, exact=True).first.click()
        page.wait_for_load_state()
        shot(page, name)
