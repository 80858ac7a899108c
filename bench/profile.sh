#!/usr/bin/env bash
# Profiles the embedded frontend under load: bench/profile.sh [native|openai|stream|interaction]
#
# Starts the fast fake upstream and the product in embedded mode (Release build as it is: run bench/run.sh or
# dotnet build -c Release first), drives wrk at it, and while the load runs collects
#   - dotnet-counters (System.Runtime: CPU, GC, allocation rate, thread pool) for PROFILE_SECONDS
#   - a dotnet-trace CPU sampling trace for PROFILE_SECONDS, with its top methods (exclusive and inclusive)
# into bench/results/profile-<scenario>/ (PROFILE_OUT). Everything started is stopped on exit.
# Needs the global tools: dotnet tool install -g dotnet-trace; dotnet tool install -g dotnet-counters.
#
# PROFILE_TOOL=perf samples on-CPU time only with Linux perf instead of dotnet-trace (whose thread-time profile
# counts waiting threads too), into perf.data and top-self.txt. The frontend then runs with DOTNET_PerfMapEnabled=1
# (JIT code symbols in /tmp/perf-PID.map) and DOTNET_EnableWriteXorExecute=0: with W^X on, the runtime maps JIT code
# from a memfd ("doublemapper"), which perf attributes to that file, so no managed frame would have a name.
#
# Knobs: PROFILE_SECONDS=10  PROFILE_WARMUP=8  PROFILE_CONNECTIONS=32  PROFILE_PORT_BASE=18180
#        PROFILE_ENV="DOTNET_gcServer=1 ..." extra environment for the frontend (to try runtime settings)
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$script_dir/.." && pwd)"
export PATH="$PATH:$HOME/.dotnet/tools"

scenario="${1:-native}"
seconds="${PROFILE_SECONDS:-10}"
warmup="${PROFILE_WARMUP:-8}"
connections="${PROFILE_CONNECTIONS:-32}"
port_base="${PROFILE_PORT_BASE:-18180}"
out="${PROFILE_OUT:-$repo_root/bench/results/profile-$scenario}"
read -r -a extra_env <<<"${PROFILE_ENV:-}"
tool="${PROFILE_TOOL:-trace}"
[[ "$tool" != perf ]] || extra_env+=(DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0)
fake_port=$((port_base + 1))
frontend_port=$((port_base + 3))
key=AIzaProfile01-0123456789abcdefghijklmn
token=profile-client-token

needed=(wrk curl dotnet-trace dotnet-counters)
[[ "$tool" != perf ]] || needed=(wrk curl perf)
for command in "${needed[@]}"; do
    command -v "$command" >/dev/null || { echo "profile: $command not found" >&2; exit 1; }
done
mkdir -p "$out"
work="$out" # the processes' logs go with the profile
bench_name=profile
# shellcheck source=bench/lib.sh
source "$script_dir/lib.sh"
trap stop_started EXIT

start_fake "$fake_port" "$key"
start_embedded frontend "$frontend_port" $((port_base + 41)) $((port_base + 51)) "http://127.0.0.1:$fake_port" "$key" "$token" \
        "${extra_env[@]}"
frontend="${pid_of[frontend]}"
wait_http fake "http://127.0.0.1:$fake_port/_fake/stats" 60
wait_http frontend "http://127.0.0.1:$frontend_port/readyz" 90

body="$script_dir/bodies/native.json"
case "$scenario" in
    native) path="/v1beta/models/gemini-2.5-flash:generateContent" ;;
    stream) path="/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse" ;;
    openai) path="/v1/chat/completions"; body="$script_dir/bodies/openai.json" ;;
    interaction) path="/v1beta/interactions"; body="$script_dir/bodies/interaction.json" ;;
    *) echo "profile: unknown scenario $scenario (native, openai, stream, interaction)" >&2; exit 2 ;;
esac
export BENCH_BODY_FILE="$body" BENCH_AUTH_HEADER=Authorization BENCH_AUTH_VALUE="Bearer $token"
url="http://127.0.0.1:$frontend_port$path"

wrk -t 2 -c "$connections" -d "${warmup}s" -s "$script_dir/wrk/post.lua" "$url" | grep BENCH_RESULT | sed 's/^/warm-up: /'
wrk -t 2 -c "$connections" -d "$((2 * seconds + 4))s" -s "$script_dir/wrk/post.lua" "$url" >"$out/wrk.txt" &
load=$!
sleep 1
if [[ "$tool" == perf ]]; then
    perf record -F 999 -g -p "$frontend" -o "$out/perf.data" -- sleep "$seconds" >/dev/null 2>&1 || echo "profile: perf failed" >&2
    wait "$load"
    grep BENCH_RESULT "$out/wrk.txt" | sed 's/^/measured: /'
    perf report -i "$out/perf.data" --no-children --sort symbol --stdio -g none 2>/dev/null | grep '%' | head -n 80 >"$out/top-self.txt" || true
    echo "profile: results in $out (perf.data, top-self.txt)"
    exit 0
fi
dotnet-counters collect -p "$frontend" --counters System.Runtime --format csv -o "$out/counters.csv" \
    --duration "00:00:$(printf '%02d' "$seconds")" >/dev/null 2>&1 || echo "profile: dotnet-counters failed" >&2
dotnet-trace collect -p "$frontend" --profile dotnet-sampled-thread-time -o "$out/trace.nettrace" \
    --duration "00:00:00:$(printf '%02d' "$seconds")" >/dev/null 2>&1 || echo "profile: dotnet-trace failed" >&2
wait "$load"
grep BENCH_RESULT "$out/wrk.txt" | sed 's/^/measured: /'
dotnet-trace report "$out/trace.nettrace" topN -n 40 >"$out/top-exclusive.txt" 2>&1 || true
dotnet-trace report "$out/trace.nettrace" topN -n 60 --inclusive >"$out/top-inclusive.txt" 2>&1 || true
# counters: the mean of each counter over the collection
awk -F, 'NR > 1 { sum[$3] += $5; n[$3]++ } END { for (c in sum) printf "%-70s %12.2f\n", c, sum[c] / n[c] }' \
    "$out/counters.csv" 2>/dev/null | sort >"$out/counters-mean.txt" || true
echo "profile: results in $out (top-exclusive.txt, top-inclusive.txt, counters-mean.txt)"
