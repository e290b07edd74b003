#!/usr/bin/env bash
# The package checks of .ci/run (`npm run check:package`, after the build): what npm would
# publish, as the ecosystem's tools see it.
# - publint --strict: package.json fields, exports and files agree with what is packed;
# - attw (@arethetypeswrong/cli), profile esm-only: every entry point resolves to JavaScript and
#   types under node16 (ESM) and bundler resolution. The package is ESM only ("type": "module",
#   Node >= 22.13), so the CommonJS `require` and node10 (no `exports`) resolutions are out of scope;
# - npm publish --dry-run: no warning but the one about not being logged in;
# - the tarball holds no test contract (contracts/mocks, contracts/verification) and no binding
#   of one.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

npx publint --strict
npx attw --pack . --profile esm-only

publish=$(npm publish --dry-run 2>&1)
warnings=$(printf '%s\n' "$publish" | grep -E '^npm (warn|WARN|error|ERR)' | grep -v 'requires you to be logged in' || true)
if [[ -n "$warnings" ]]; then
  printf 'package: npm publish --dry-run warned:\n%s\n' "$warnings" >&2
  exit 1
fi
printf '%s\n' "$publish" | grep -E '^npm notice (total files|package size|unpacked size)'

files=$(npm pack --dry-run --json | node -e 'let t="";process.stdin.on("data",d=>t+=d).on("end",()=>{for(const f of JSON.parse(t)[0].files)console.log(f.path)})')
test_only=$(printf '%s\n' "$files" | grep -E '(^|/)(mocks|verification)(/|$)|Mock|Harness|Properties|NegativeControls|GasProbe|Mirror' || true)
if [[ -n "$test_only" ]]; then
  printf 'package: test-only files in the tarball:\n%s\n' "$test_only" >&2
  exit 1
fi
echo "package: $(printf '%s\n' "$files" | wc -l) files, no test contract or binding; checks done in $(( $(date +%s) - start ))s"
