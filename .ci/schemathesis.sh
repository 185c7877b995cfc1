#!/usr/bin/env bash
# Schemathesis (from PyPI, in a venv of its own) against a live embedded maas: every check on
# every operation, with a bounded number of examples. Needs `make install` first.
#   ST_MAX_EXAMPLES (default 30)  ST_REPORT_DIR (default var/schemathesis)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ST_VENV=${ST_VENV:-$ROOT/.venv-schemathesis}
MAX_EXAMPLES=${ST_MAX_EXAMPLES:-30}
REPORT_DIR=${ST_REPORT_DIR:-$ROOT/var/schemathesis}
if [ ! -x "$ST_VENV/bin/schemathesis" ]; then
  python3.11 -m venv "$ST_VENV" 2>/dev/null || python3 -m venv "$ST_VENV"
  "$ST_VENV/bin/pip" install -q "schemathesis==4.32.5"
fi

DATA=$(mktemp -d)
export MAAS_DATA_DIR=$DATA MAAS_ACCESS_LOG=false DATABASE_URL= REDIS_URL= CELERY_BROKER_URL=
.venv/bin/python manage.py migrate --noinput -v 0
# A tenant, and a trained model and its dataset, so that reads and predictions reach real
# objects (the ids are pinned for the operations that only read them).
SEED=$(.venv/bin/python .ci/schemathesis_seed.py)
KEY=$(echo "$SEED" | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["api_key"])')
export ST_MODEL_ID=$(echo "$SEED" | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["model"])')

PORT=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
PORT=$PORT MAAS_WEB_HOST=127.0.0.1 WEB_CONCURRENCY=2 .venv/bin/python -m maas.web \
  >"$DATA/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done

mkdir -p "$REPORT_DIR"
status=0
"$ST_VENV/bin/schemathesis" --config-file .ci/schemathesis.toml run \
  "http://127.0.0.1:$PORT/v1/openapi.json" \
  -H "Authorization: Bearer $KEY" \
  --checks all --max-examples "$MAX_EXAMPLES" --seed "${ST_SEED:-1}" \
  --report junit --report-dir "$REPORT_DIR" --no-color \
  --phases examples,coverage,fuzzing,stateful || status=$?
if [ "$status" != 0 ]; then
  echo "--- server log (errors) ---"; grep -i '"level":"ERROR"' "$DATA/server.log" | tail -20 || true
fi
exit $status
