#!/usr/bin/env bash
# scripts/run.sh BUILD_DIR - serve the API on the embedded SQLite default
# (var/scents.db), printing the URL and one example per endpoint first.
set -euo pipefail
bin="${1:-build-release}/scents"
host=${HTTP_HOST:-127.0.0.1}
port=${HTTP_PORT:-5005}
url="http://$host:$port"
store=${DATABASE_URL:-sqlite:var/scents.db}
# never print a password: postgresql://user:***@host/db
shown=$(sed -E 's#^([a-z]+://[^:/@]*):[^@/]*@#\1:***@#' <<<"$store")
cat <<MSG
scents: serving $url (store: $shown); Ctrl-C stops.
Try, from another terminal:
  curl -s -X POST $url/add_batch -H 'Content-Type: application/json' \\
       -d '{"ref":"batch-001","sku":"SEA-BREEZE","qty":100,"eta":null}'
  curl -s -X POST $url/allocate -H 'Content-Type: application/json' \\
       -d '{"orderid":"order-1","sku":"SEA-BREEZE","qty":10}'
  curl -s $url/allocations/order-1
  curl -s -X POST $url/add_batch -H 'Content-Type: application/json' \\
       -d '{"ref":"batch-002","sku":"SEA-BREEZE","qty":50,"eta":"2026-12-24"}'
  curl -s -X POST $url/change_batch_quantity -H 'Content-Type: application/json' \\
       -d '{"ref":"batch-001","qty":5}'      # order-1 moves to batch-002
  curl -s $url/allocations/order-1
  curl -s $url/products
  curl -s $url/products/SEA-BREEZE
  curl -s $url/healthz
  curl -s $url/readyz                        # can it write now? outbox, Redis, SMTP
  curl -s $url/metrics | head                # Prometheus text format
  curl -s $url/openapi.json | head -c 300    # this API, described
Formulas, surveys, demand and the production plan with the files in
examples/: docs/analytics.md. Cinema shows: docs/dispensing.md.
The dashboard for the stock team: open $url/ in a browser.
No token exists, so this loopback server is open to all. To require them:
  $bin token create --name me --scope admin   # with the same DATABASE_URL
  curl -s $url/products -H "Authorization: Bearer <the printed token>"
and for the dashboard's sign-in ($url/ui/login), a read token:
  $bin token create --name stock-team --scope read
MSG
exec "$bin" serve
