#!/usr/bin/env bash
# Consumer compatibility of the PACKED package (issue #11), run by .ci/run after `npm run build`:
#   1. three generated projects in a scratch directory, each installing the tarball next to its own NestJS and Jest
#      from the npm registry, with the configuration `nest new` generates (package.json "jest" block, ts-jest):
#        nest11-jest29  NestJS 11, CommonJS, Jest 29 + ts-jest 29, TypeScript 5
#        nest11-jest30  NestJS 11, CommonJS, Jest 30 + ts-jest 29, TypeScript 5
#        nest12-esm     NestJS 12, "type": "module", Jest 30 in ESM mode (as this repository runs it), TypeScript 6
#      each is built with tsc, booted (test/compat/boot-check.mjs: GET twice, the @Cache provider runs once) and
#      runs its own Jest tests (test/compat/app: the same app for all three; CommonJS projects drop the .js
#      suffixes of relative imports, as `nest new` writes them, and add a jest.isolateModules test), the backend
#      conformance suite of nestjs-cashews/testing among them;
#   2. require() and import() of the package in one process give the same objects, in both load orders, and
#      nestjs-cashews/testing loads in both formats (test/compat/dual-identity.mjs), on NestJS 11 and on NestJS 12;
#   3. a consumer (test/compat/types/consumer.ts, plus test/types/*.ts when present; it imports nestjs-cashews/testing
#      too) type-checks with tsc --noEmit
#      under module/moduleResolution commonjs/node10, node16/node16, nodenext/nodenext and esnext/bundler.
# The three installs run in parallel. Set COMPAT_KEEP=1 to keep the scratch directory.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
compat="$root/test/compat"
work="$(mktemp -d)"
if [ "${COMPAT_KEEP:-}" = 1 ]; then
  echo "scratch directory (kept): $work"
else
  trap 'rm -rf "$work"' EXIT
fi
started=$SECONDS
say() { printf -- '--- [compat %3ss] %s\n' "$((SECONDS - started))" "$*"; }

[ -f "$root/dist/cjs/entry.js" ] && [ -f "$root/dist/esm/entry.js" ] || {
  echo "dist/cjs or dist/esm missing: run npm run build first" >&2
  exit 1
}
tarball="$(cd "$root" && npm pack --silent --pack-destination "$work" | tail -n 1)"
say "packed $tarball ($(du -k "$work/$tarball" | cut -f1) kB)"

# write_project DIR NEST JEST TYPES_JEST TYPESCRIPT MODULE_TYPE
write_project() {
  local dir="$work/$1" nest="$2" jest="$3" types_jest="$4" typescript="$5" type="$6"
  mkdir -p "$dir/src"
  cp "$compat"/app/src/*.ts "$dir/src/"
  local jest_config test_script type_field=''
  if [ "$type" = module ]; then
    type_field='"type": "module",'
    test_script='NODE_OPTIONS=--experimental-vm-modules jest'
    jest_config='{
    "moduleFileExtensions": ["js", "json", "ts"],
    "rootDir": "src",
    "testRegex": ".*\\.spec\\.ts$",
    "extensionsToTreatAsEsm": [".ts"],
    "moduleNameMapper": { "^(\\.{1,2}/.*)\\.js$": "$1" },
    "transform": { "^.+\\.(t|j)s$": ["ts-jest", { "useESM": true }] },
    "testEnvironment": "node"
  }'
  else
    # `nest new` (CommonJS) writes relative imports without an extension.
    sed -i -E "s#(from '\./[^']+)\.js'#\1'#" "$dir"/src/*.ts
    cp "$compat"/app/cjs/*.ts "$dir/src/"
    test_script='jest'
    jest_config='{
    "moduleFileExtensions": ["js", "json", "ts"],
    "rootDir": "src",
    "testRegex": ".*\\.spec\\.ts$",
    "transform": { "^.+\\.(t|j)s$": "ts-jest" },
    "collectCoverageFrom": ["**/*.(t|j)s"],
    "coverageDirectory": "../coverage",
    "testEnvironment": "node"
  }'
  fi
  cat >"$dir/package.json" <<EOF
{
  "name": "$1",
  "version": "0.0.1",
  "private": true,
  $type_field
  "scripts": { "build": "tsc -p tsconfig.build.json", "test": "$test_script" },
  "dependencies": {
    "@nestjs/common": "$nest",
    "@nestjs/core": "$nest",
    "@nestjs/platform-express": "$nest",
    "nestjs-cashews": "file:../$tarball",
    "reflect-metadata": "^0.2.2",
    "rxjs": "^7.8.1"
  },
  "devDependencies": {
    "@nestjs/testing": "$nest",
    "@types/jest": "$types_jest",
    "@types/node": "^24.0.0",
    "jest": "$jest",
    "ts-jest": "^29.4.0",
    "typescript": "$typescript"
  },
  "jest": $jest_config
}
EOF
  # The tsconfig.json of `nest new` (NestJS 11 template; the NestJS 12 one differs only in rootDir and types).
  cat >"$dir/tsconfig.json" <<EOF
{
  "compilerOptions": {
    "module": "nodenext",
    "moduleResolution": "nodenext",
    "resolvePackageJsonExports": true,
    "esModuleInterop": true,
    "isolatedModules": true,
    "declaration": true,
    "removeComments": true,
    "emitDecoratorMetadata": true,
    "experimentalDecorators": true,
    "allowSyntheticDefaultImports": true,
    "target": "ES2023",
    "sourceMap": true,
    "outDir": "./dist",
    "rootDir": "./src",
    "incremental": true,
    "skipLibCheck": true,
    "strictNullChecks": true,
    "forceConsistentCasingInFileNames": true,
    "noImplicitAny": false,
    "strictBindCallApply": false,
    "noFallthroughCasesInSwitch": false,
    "types": ["node", "jest"]
  }
}
EOF
  echo '{ "extends": "./tsconfig.json", "exclude": ["node_modules", "test", "dist", "**/*spec.ts"] }' \
    >"$dir/tsconfig.build.json"
}

write_project nest11-jest29 ^11.0.1 ^29.7.0 ^29.5.14 ^5.7.3 commonjs
write_project nest11-jest30 ^11.0.1 ^30.0.0 ^30.0.0 ^5.7.3 commonjs
write_project nest12-esm ^12.0.1 ^30.0.0 ^30.0.0 ^6.0.2 module

projects=(nest11-jest29 nest11-jest30 nest12-esm)
say "npm install in ${projects[*]} (in parallel)"
pids=()
for project in "${projects[@]}"; do
  (cd "$work/$project" && npm install --no-audit --no-fund >install.log 2>&1) &
  pids+=($!)
done
for i in "${!projects[@]}"; do
  if ! wait "${pids[$i]}"; then
    echo "npm install failed in ${projects[$i]}:" >&2
    tail -n 40 "$work/${projects[$i]}/install.log" >&2
    exit 1
  fi
  engines="$(grep -o "EBADENGINE.*package: '[^']*'" "$work/${projects[$i]}/install.log" | sed "s/.*package: //" | sort -u |
    tr '\n' ' ' || true)"
  [ -z "$engines" ] || say "${projects[$i]}: npm warned EBADENGINE (Node $(node --version)) for $engines"
done
say "installed"

for project in "${projects[@]}"; do
  cd "$work/$project"
  versions="$(node -p "['@nestjs/core', 'jest', 'ts-jest', 'typescript', 'ioredis'].map((p) => p + ' ' + require('./node_modules/' + p + '/package.json').version).join(', ')")"
  say "$project: $versions"
  npm run --silent build
  node "$compat/boot-check.mjs" dist/main.js
  if ! npm test --silent >test.log 2>&1; then
    cat test.log >&2
    exit 1
  fi
  grep -E '^(PASS|FAIL|Tests:)' test.log
done

# consumer_check PROJECT COMMAND...: runs COMMAND in the consumer project and prints what it printed. The output is
# taken by an assignment, not inside say's arguments: `set -e` ignores a failing command substitution in an argument,
# and a check written `say "$(node check.mjs)"` passed whatever the check answered.
consumer_check() {
  local project="$1" out
  shift
  out="$(cd "$work/$project" && "$@")"
  say "$project: $out"
}

for project in nest11-jest29 nest12-esm; do
  cp "$compat/dual-identity.mjs" "$work/$project/"
  for order in require-first import-first; do
    consumer_check "$project" node dual-identity.mjs "$order"
  done
done

for project in nest11-jest29 nest12-esm; do
  cp "$compat/fake-timers.mjs" "$compat/sealed-global.mjs" "$work/$project/"
  for format in require import; do
    consumer_check "$project" node sealed-global.mjs "$format"
    for when in after-load before-load; do
      consumer_check "$project" node --no-warnings=ExperimentalWarning fake-timers.mjs "$format" "$when"
    done
  done
done

# Type-checks the consumer fixtures with PROJECT's packages (and module type) under MODULE/RESOLUTION.
typecheck() {
  local project="$1" module="$2" resolution="$3" dir="$work/types-$1-$2"
  mkdir -p "$dir"
  ln -s "$work/$project/node_modules" "$dir/node_modules"
  node -e "const p = require('$work/$project/package.json'); console.log(JSON.stringify({ private: true, type: p.type }))" \
    >"$dir/package.json"
  cp "$compat/types/consumer.ts" "$dir/"
  for fixture in "$root"/test/types/*.ts; do
    [ -e "$fixture" ] || continue
    sed "s#'\.\./\.\./lib/index\.js'#'nestjs-cashews'#" "$fixture" >"$dir/$(basename "$fixture")"
  done
  cat >"$dir/tsconfig.json" <<EOF
{
  "compilerOptions": {
    "module": "$module",
    "moduleResolution": "$resolution",
    "target": "ES2022",
    "strict": true,
    "experimentalDecorators": true,
    "emitDecoratorMetadata": true,
    "esModuleInterop": true,
    "noEmit": true,
    "types": ["node"]
  },
  "include": ["*.ts"]
}
EOF
  (cd "$dir" && node_modules/.bin/tsc -p tsconfig.json)
  say "$project: tsc --noEmit with module $module, moduleResolution $resolution: ok ($(cd "$dir" && ls *.ts | tr '\n' ' '))"
}
typecheck nest11-jest29 commonjs node10
typecheck nest11-jest29 node16 node16
typecheck nest11-jest29 nodenext nodenext
typecheck nest11-jest29 esnext bundler
typecheck nest12-esm nodenext nodenext
typecheck nest12-esm esnext bundler

say "consumer compatibility: ok"
