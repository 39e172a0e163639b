#!/usr/bin/env bash
# Packs the built package and loads it from a CommonJS NestJS 11 app in a scratch directory, so the
# "NestJS 11 or 12" promise is checked against what npm would actually install. Run after `npm run build`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
tarball="$(cd "$root" && npm pack --silent --pack-destination "$work" | tail -n 1)"
cd "$work"
echo '{ "name": "nest11-compat", "version": "1.0.0", "private": true }' > package.json
npm install --silent --no-audit --no-fund @nestjs/common@11 @nestjs/core@11 reflect-metadata rxjs "./$tarball"
cp "$root/test/compat/nest11-app.cjs" .
node nest11-app.cjs
