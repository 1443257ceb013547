#!/bin/sh
# The runtime stage's file layout: @tender/server-express with its production dependencies only,
# plus the image's entry (bin/tender-server) and HEALTHCHECK (bin/healthcheck.mjs), in TARGET.
#
# deploy/Dockerfile runs this in its build stage (TARGET /app, copied into the runtime stage), and
# packages/server-express/test/deploy-image.test.ts runs it into a clean directory, then starts the
# server from there as uid 1001 on a read-only root: the same commands, so the two cannot drift.
#
# Run from the workspace root after `pnpm install --frozen-lockfile` and `pnpm run build`:
#   deploy/image/install-runtime.sh /app
# PNPM is the pnpm command (default: the packageManager of package.json through npx).
set -eu
target=${1:?usage: deploy/image/install-runtime.sh TARGET}
if [ -e "$target" ] && [ -n "$(ls -A "$target")" ]; then
  echo "install-runtime.sh: $target is not empty" >&2
  exit 2
fi
[ -f packages/server-express/dist/cli.js ] || { echo "install-runtime.sh: build first (pnpm run build)" >&2; exit 2; }
pnpm=${PNPM:-"npx -y $(node -p "require('./package.json').packageManager")"}

# pnpm deploy: @tender/server-express's files (dist, proto) and, from the workspace lockfile, its
#   production dependencies only, the workspace packages among them copied in ("injected"; the
#   workspace itself keeps linking them, hence the setting on this command only). The lockfile
#   pins every version: nothing is resolved anew. @tender/core's optional test peers (vitest,
#   fast-check) are its devDependencies, so they stay out.
# --offline: every package comes from the store the workspace install filled.
$pnpm --config.inject-workspace-packages=true --filter @tender/server-express deploy --prod --offline "$target"

mkdir -p "$target/bin"
cp deploy/image/tender-server deploy/image/healthcheck.mjs "$target/bin/"
chmod 0755 "$target/bin/tender-server"
chmod 0644 "$target/bin/healthcheck.mjs"

# The CLI must at least load from the copied tree (a missing production dependency fails here).
node "$target/dist/cli.js" help >/dev/null
