#!/usr/bin/env bash
# Builds the solution and runs every test: the .NET suites (grains, frontend, cluster, deploy, fake upstream) and the
# JavaScript end-to-end suite that drives the product with the real openai and @google/genai SDKs.
# Prints one closing line "N passed, M failed" counted from the runners' own summaries; exits non-zero on any failure.
#
# Needs: the .NET 10 SDK, Node.js, redis-server and kubectl on PATH (.ci/run installs what a clean machine lacks).
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
logs="${TEST_LOG_DIR:-artifacts/test-logs}"
mkdir -p "$logs"
passed=0
failed=0
status=0

if [[ ! -d node_modules ]]; then
    echo "== npm ci"
    npm ci --no-audit --no-fund --loglevel=error || echo "npm ci failed: the JavaScript SDK suite will not run" >&2
fi

echo "== build"
if ! dotnet build gemini-party.slnx -c Debug -v quiet -nologo > "$logs/build.log" 2>&1; then
    tail -n 40 "$logs/build.log"
    echo "0 passed, 1 failed"
    exit 1
fi

echo "== dotnet test"
# one test module at a time: the cluster suite starts redis and four processes, and this machine has two cores
dotnet test --solution gemini-party.slnx --no-build --max-parallel-test-modules 1 2>&1 | tee "$logs/dotnet-test.log"
[[ ${PIPESTATUS[0]} -eq 0 ]] || status=1
summary=$(sed -n '/Test run summary/,$p' "$logs/dotnet-test.log")
dotnet_passed=$(grep -oP '^\s*succeeded:\s*\K[0-9]+' <<< "$summary" | tail -n 1)
dotnet_failed=$(grep -oP '^\s*failed:\s*\K[0-9]+' <<< "$summary" | tail -n 1)
if [[ -z "$dotnet_passed" ]]; then
    echo "could not read the dotnet test summary" >&2
    dotnet_failed=${dotnet_failed:-1}
    status=1
fi
passed=$((passed + ${dotnet_passed:-0}))
failed=$((failed + ${dotnet_failed:-0}))

echo "== node --test (real SDKs end to end)"
if [[ -d node_modules ]]; then
    node --test --test-concurrency=1 --test-reporter=spec tests/e2e/ 2>&1 | tee "$logs/e2e.log"
    [[ ${PIPESTATUS[0]} -eq 0 ]] || status=1
    # node's closing summary: "ℹ pass 25" / "ℹ fail 0" (spec reporter) or "# pass 25" (tap)
    e2e_passed=$(LC_ALL=C sed -nE 's/^[^ ]+ pass ([0-9]+)$/\1/p' "$logs/e2e.log" | tail -n 1)
    e2e_failed=$(LC_ALL=C sed -nE 's/^[^ ]+ fail ([0-9]+)$/\1/p' "$logs/e2e.log" | tail -n 1)
    if [[ -z "$e2e_passed" ]]; then
        echo "could not read the node test summary" >&2
        e2e_failed=${e2e_failed:-1}
        status=1
    fi
    passed=$((passed + ${e2e_passed:-0}))
    failed=$((failed + ${e2e_failed:-0}))
else
    echo "node_modules is missing: 'npm ci' did not succeed" >&2
    failed=$((failed + 1))
    status=1
fi

if [[ $failed -ne 0 ]]; then
    status=1
    # the runners print their failures far up in long logs: repeat them here, where CI output is read first
    echo "== failures"
    grep -E -A 12 '^\s*failed [A-Za-z_]' "$logs/dotnet-test.log" 2>/dev/null | head -n 120
    grep -E -A 12 '^\s*✖ ' "$logs/e2e.log" 2>/dev/null | head -n 120
fi
echo "$passed passed, $failed failed"
exit $status
