from tests.training.conftest import cancer_dataset  # noqa: F401  (a shared fixture)
