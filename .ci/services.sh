#!/usr/bin/env bash
# Make sure PostgreSQL, Redis and an S3-protocol server answer on 127.0.0.1 (install them with apt-get if absent,
# start them if stopped), and that Chromium is there for the browser tests.
# The S3 server is moto's standalone server from the venv (a dev dependency): the media storage tests run against
# it on S3_PORT (9000, the tests' default TEST_S3_ENDPOINT_URL; set both to move it).
set -euo pipefail

need_apt=()
command -v pg_ctlcluster >/dev/null 2>&1 || need_apt+=(postgresql)
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
# The browser tests drive Debian's Chromium with Playwright (no browser download from a test tool).
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "Installing ${need_apt[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${need_apt[@]}"
fi

if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  echo "Starting PostgreSQL $version"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "Starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi

S3_PORT=${S3_PORT:-9000}
s3_answers() {
  curl -s --max-time 2 "http://127.0.0.1:$S3_PORT/" 2>/dev/null | grep -q "ListAllMyBucketsResult"
}
if ! s3_answers; then
  if curl -s --max-time 2 -o /dev/null "http://127.0.0.1:$S3_PORT/" 2>/dev/null; then
    echo "Port $S3_PORT answers but not as an S3 server: set S3_PORT and TEST_S3_ENDPOINT_URL to a free port" >&2
    exit 1
  fi
  moto_server="${VENV_BIN:-$(pwd)/.venv/bin}/moto_server"
  echo "Starting the S3-protocol server (moto) on 127.0.0.1:$S3_PORT"
  mkdir -p /var/log/clipcast
  setsid nohup "$moto_server" -H 127.0.0.1 -p "$S3_PORT" >/var/log/clipcast/s3.log 2>&1 </dev/null &
fi

for _ in $(seq 1 60); do
  if pg_isready -h 127.0.0.1 -p 5432 -q && redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && s3_answers; then
    exit 0
  fi
  sleep 1
done
echo "PostgreSQL, Redis or the S3 server did not come up on 127.0.0.1" >&2
exit 1
