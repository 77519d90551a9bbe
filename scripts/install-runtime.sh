#!/bin/sh
# Production dependencies only, as the image installs them: the Dockerfile's run stage runs this,
# and test/ops/dockerfile.test.ts runs it in a copy of the tree and starts the service from it.
set -eu
# --omit=optional as well: the Prisma CLI and TypeScript are dev dependencies, but also optional
# peers of @prisma/client, which npm marks devOptional and keeps under --omit=dev alone (~250 MB).
npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund "$@"
# @prisma/client ships a query compiler per database; the generated client loads only PostgreSQL's.
find node_modules/@prisma/client/runtime -type f \
  \( -name 'query_*.cockroachdb.*' -o -name 'query_*.mysql.*' -o -name 'query_*.sqlite.*' \
  -o -name 'query_*.sqlserver.*' -o -name '*.map' \) -delete
