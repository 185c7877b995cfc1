#!/usr/bin/env bash
# Installs (Debian packages) and starts PostgreSQL and Redis on loopback, idempotently, and
# installs docker-compose v1 to validate docker-compose.yml. Used by .ci/run and
# `make test-services`.
set -euo pipefail

need=()
command -v pg_ctlcluster >/dev/null || need+=(postgresql)
command -v redis-server >/dev/null || need+=(redis-server)
command -v docker-compose >/dev/null || need+=(docker-compose)  # v1: validates compose offline
if ((${#need[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

PGVER=$(ls /usr/lib/postgresql | sort -V | tail -1)
pg_lsclusters -h | grep -q "^$PGVER main" || pg_createcluster "$PGVER" main >/dev/null
pg_lsclusters -h | grep "^$PGVER main" | grep -q online || pg_ctlcluster "$PGVER" main start
for _ in $(seq 50); do su postgres -c "pg_isready -q" && break; sleep 0.2; done
su postgres -c "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname='maas'\"" | grep -q 1 ||
  su postgres -c "psql -q -c \"CREATE ROLE maas LOGIN PASSWORD 'maas' CREATEDB\""
su postgres -c "psql -tAc \"SELECT 1 FROM pg_database WHERE datname='maas'\"" | grep -q 1 ||
  su postgres -c "createdb -O maas maas"

redis-cli ping >/dev/null 2>&1 ||
  redis-server --port 6379 --bind 127.0.0.1 --daemonize yes --save '' --appendonly no \
    --pidfile /tmp/redis-ci.pid >/dev/null
for _ in $(seq 50); do redis-cli ping >/dev/null 2>&1 && break; sleep 0.2; done
redis-cli ping >/dev/null
