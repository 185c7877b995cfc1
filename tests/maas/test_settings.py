import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _setup_django(env_overrides: dict[str, str], tmp_path) -> subprocess.CompletedProcess:
    env = {**os.environ, "MAAS_DATA_DIR": str(tmp_path)}
    env.pop("SECRET_KEY", None)
    env.pop("ALLOWED_HOSTS", None)
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "maas.settings"},
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = _setup_django({"MAAS_ENV": "production", "ALLOWED_HOSTS": "example.com"}, tmp_path)
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts(tmp_path):
    result = _setup_django({"MAAS_ENV": "production", "SECRET_KEY": "s" * 50}, tmp_path)
    assert result.returncode != 0 and "ALLOWED_HOSTS" in result.stderr


def test_production_starts_with_a_secret_key(tmp_path):
    result = _setup_django(
        {"MAAS_ENV": "production", "SECRET_KEY": "s" * 50, "ALLOWED_HOSTS": "example.com"}, tmp_path
    )
    assert result.returncode == 0, result.stderr


def test_development_makes_and_keeps_its_own_key(tmp_path):
    assert _setup_django({"MAAS_ENV": "development"}, tmp_path).returncode == 0
    first = (tmp_path / "secret_key").read_text()
    assert _setup_django({"MAAS_ENV": "development"}, tmp_path).returncode == 0
    assert (tmp_path / "secret_key").read_text() == first and len(first) >= 50


def test_production_passes_the_deploy_checks(tmp_path):
    env = {
        **os.environ,
        "MAAS_DATA_DIR": str(tmp_path),
        "MAAS_ENV": "production",
        "SECRET_KEY": "".join(chr(33 + i % 90) for i in range(64)),
        "ALLOWED_HOSTS": "api.example.com",
        "DJANGO_SETTINGS_MODULE": "maas.settings",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
