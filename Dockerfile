# One image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MAAS_DATA_DIR=/data
WORKDIR /app

COPY . .
RUN pip install --no-cache-dir -c requirements.lock . \
    && useradd --create-home --uid 1000 maas && mkdir -p /data && chown maas /data

USER maas
EXPOSE 8000
CMD ["sh", "-c", "python manage.py migrate --noinput && python manage.py collectstatic --noinput -v0 && exec gunicorn maas.wsgi --worker-class maas.server.KeepAliveWorker --bind 0.0.0.0:8000 --workers ${WEB_CONCURRENCY:-2}"]
