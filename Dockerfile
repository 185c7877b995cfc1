# syntax=docker/dockerfile:1
# Two targets from one file (docker-compose.yml picks them):
#   web     the API, beat and one-shot commands: everything but TensorFlow (web processes never
#           import it, docs/deploy.md), about 600 MB smaller
#   worker  Celery workers: web plus TensorFlow (tensorflow-cpu) and tf2onnx, the last stage,
#           so a plain `docker build .` gives it
# Dependencies are installed in layers before the code is copied: a code change rebuilds only
# the last layer.
FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MAAS_DATA_DIR=/data
WORKDIR /app
RUN useradd --create-home --uid 1000 maas && mkdir -p /data && chown maas /data
COPY pyproject.toml requirements.lock ./
# The project's direct dependencies (pyproject.toml), pinned by the lock; TensorFlow's apart.
RUN python - > /tmp/web.txt <<'PY'
import tomllib
dependencies = tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]
print("\n".join(d for d in dependencies if not d.startswith(("tensorflow", "tf2onnx"))))
PY
RUN pip install --no-cache-dir -c requirements.lock -r /tmp/web.txt

FROM base AS web
COPY . .
RUN pip install --no-cache-dir --no-deps .
USER maas
EXPOSE 8000
CMD ["sh", "-c", "python manage.py migrate --noinput && python manage.py collectstatic --noinput -v0 && exec python -m maas.web"]

FROM base AS worker
RUN python - > /tmp/tensorflow.txt <<'PY'
import tomllib
dependencies = tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]
print("\n".join(d for d in dependencies if d.startswith(("tensorflow", "tf2onnx"))))
PY
RUN pip install --no-cache-dir -c requirements.lock -r /tmp/tensorflow.txt
COPY . .
RUN pip install --no-cache-dir --no-deps .
USER maas
CMD ["celery", "-A", "maas", "worker", "-l", "info", "-Q", "default,training,inference,billing,webhooks"]
