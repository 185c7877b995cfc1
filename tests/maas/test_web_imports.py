"""The web image has no TensorFlow (Dockerfile's `web` target): a web process, with every route
of the URLconf loaded and the apps ready, has imported neither TensorFlow, Keras nor tf2onnx."""

import subprocess
import sys

from tests.billing.subprocess_env import ROOT

CHECK = """
import sys
import maas.wsgi
from django.urls import get_resolver
get_resolver().reverse_dict  # imports every view of every route
loaded = sorted(m for m in ("tensorflow", "keras", "tf2onnx") if m in sys.modules)
print(",".join(loaded) or "none")
"""


def test_a_web_process_imports_no_tensorflow():
    out = subprocess.run(
        [sys.executable, "-c", CHECK],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"DJANGO_SETTINGS_MODULE": "maas.settings", "PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "none"
