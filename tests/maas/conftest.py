from tests.training.conftest import cancer_csv, cancer_dataset  # noqa: F401  (shared fixtures)
