# The e2e suite's real Celery worker, for the browser test.
from tests.e2e.conftest import worker  # noqa: F401
