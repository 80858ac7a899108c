#!/usr/bin/env bash
# Where the embedded frontend's memory goes: bench/memory.sh
#
# Starts the fast fake upstream and the product in embedded mode (Release build as it is: run bench/run.sh or
# dotnet build -c Release first), then prints, idle, after MEMORY_CONNECTIONS connections of native calls, and after
# MEMORY_SLOW_CONNECTIONS connections with MEMORY_SLOW_LATENCY_MS of upstream latency (the benchmark's "slow"
# scenario, the largest RSS):
#   - VmRSS and the thread count;
#   - RSS by kind of mapping (/proc/PID/smaps): mapped assemblies (dll), native libraries (so), the runtime's code
#     memory (doublemapper: JIT output, stubs, loader heaps), anonymous memory ([anon]: mostly the GC heap), ...;
#   - the GC's collection counts, generation sizes and committed memory, from the gateway's /metrics;
#   - CPU per request of the first loaded run, so that a memory setting's CPU cost shows next to its saving.
# Everything started is stopped on exit.
#
# Knobs: MEMORY_MODE=embedded  or cluster: redis + 2 silos + 1 frontend through deploy/local/cluster.sh, the
#        frontend measured (client only, no silo); or the floors the gateway is compared with (bench/BareProxy, no
#        GC figures: it has no /metrics): bare (Kestrel + HttpClient only), bare-silo (the same taking its key from a
#        grain of an in-process silo on every request, as the embedded process leases), bare-client (from a grain of
#        a second BareProxy process hosting the silo, as a cluster frontend)
#        MEMORY_CONNECTIONS=32  MEMORY_SLOW_CONNECTIONS=256  MEMORY_SLOW_LATENCY_MS=50  MEMORY_SECONDS=10
#        MEMORY_PORT_BASE=18280  MEMORY_ENV="DOTNET_GCgen0size=0x800000 ..." extra environment for the frontend
#        MEMORY_ROUNDS=1  N > 1 repeats both loads N - 1 more times and reports after each: memory that keeps growing
#        MEMORY_TOP=0  N > 0 also lists the N mapped files (assemblies, libraries) holding the most RSS
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$script_dir/.." && pwd)"

connections="${MEMORY_CONNECTIONS:-32}"
slow_connections="${MEMORY_SLOW_CONNECTIONS:-256}"
slow_latency_ms="${MEMORY_SLOW_LATENCY_MS:-50}"
seconds="${MEMORY_SECONDS:-10}"
port_base="${MEMORY_PORT_BASE:-18280}"
top="${MEMORY_TOP:-0}"
rounds="${MEMORY_ROUNDS:-1}"
mode="${MEMORY_MODE:-embedded}"
[[ "$mode" =~ ^(embedded|cluster|bare|bare-silo|bare-client)$ ]] ||
    { echo "memory: MEMORY_MODE is embedded, cluster, bare, bare-silo or bare-client" >&2; exit 1; }
read -r -a extra_env <<<"${MEMORY_ENV:-}"
fake_port=$((port_base + 1))
frontend_port=$((port_base + 3))
key=AIzaMemory001-0123456789abcdefghijklmn
token=memory-client-token
work="$(mktemp -d "${TMPDIR:-/tmp}/gemini-party-memory.XXXXXX")"

for tool in wrk curl; do
    command -v "$tool" >/dev/null || { echo "memory: $tool not found" >&2; exit 1; }
done
bench_name=memory
# shellcheck source=bench/lib.sh
source "$script_dir/lib.sh"
cleanup() {
    if [[ "$mode" == cluster ]]; then
        CLUSTER_DIR="$work/cluster" "$repo_root/deploy/local/cluster.sh" down >/dev/null 2>&1 || true
    fi
    stop_started
    rm -rf "$work"
}
trap cleanup EXIT

start_fake "$fake_port" "$key"
if [[ "$mode" == cluster ]]; then
    # as bench/run.sh starts it: in this session (autogroup scheduling), the Release build as it is
    CLUSTER_DIR="$work/cluster" CLUSTER_ENV_FILE=/dev/null CLUSTER_BUILD=0 CLUSTER_FRONTENDS=1 CLUSTER_SILOS=2 \
        CLUSTER_DETACH=0 CLUSTER_REDIS_PORT=$((port_base + 61)) CLUSTER_FRONTEND_PORT="$frontend_port" \
        CLUSTER_SILO_HTTP_PORT=$((port_base + 11)) CLUSTER_SILO_PORT=$((port_base + 21)) CLUSTER_GATEWAY_PORT=$((port_base + 31)) \
        GEMINI_API_KEY="$key" AUTH_TOKEN="$token" GEMINI_BASE_URL="http://127.0.0.1:$fake_port" \
        env "${extra_env[@]}" "$repo_root/deploy/local/cluster.sh" up >"$work/cluster-up.log" 2>&1 ||
        { cat "$work/cluster-up.log" >&2; exit 1; }
    frontend="$(<"$work/cluster/pids/frontend-1.pid")"
elif [[ "$mode" == bare* ]]; then
    bare_dll="$repo_root/bench/BareProxy/bin/Release/net10.0/GeminiParty.BareProxy.dll"
    [[ -f "$bare_dll" ]] || die "$bare_dll not built: dotnet build -c Release bench/BareProxy"
    bare_env=(PORT="$frontend_port" UPSTREAM="http://127.0.0.1:$fake_port" UPSTREAM_KEY="$key"
        ORLEANS_SILO_PORT=$((port_base + 41)) ORLEANS_GATEWAY_PORT=$((port_base + 51)))
    case "$mode" in
        bare-silo) bare_env+=(ORLEANS=silo) ;;
        bare-client)
            start silo "$work" env "${bare_env[@]}" PORT=$((port_base + 11)) ORLEANS=silo dotnet "$bare_dll"
            wait_http silo "http://127.0.0.1:$((port_base + 11))/healthz" 60
            bare_env+=(ORLEANS=client)
            ;;
    esac
    start frontend "$work" env "${bare_env[@]}" "${extra_env[@]}" dotnet "$bare_dll"
    frontend="${pid_of[frontend]}"
else
    start_embedded frontend "$frontend_port" $((port_base + 41)) $((port_base + 51)) "http://127.0.0.1:$fake_port" "$key" "$token" \
        "${extra_env[@]}"
    frontend="${pid_of[frontend]}"
fi
wait_http fake "http://127.0.0.1:$fake_port/_fake/stats" 60
ready_path=/readyz
[[ "$mode" != bare* ]] || ready_path=/healthz
wait_http frontend "http://127.0.0.1:$frontend_port$ready_path" 90

export BENCH_BODY_FILE="$script_dir/bodies/native.json" BENCH_AUTH_HEADER=Authorization BENCH_AUTH_VALUE="Bearer $token"
url="http://127.0.0.1:$frontend_port/v1beta/models/gemini-2.5-flash:generateContent"

# load CONNECTIONS SECONDS: prints the requests wrk completed
load() {
    wrk -t 2 -c "$1" -d "${2}s" --timeout 10s -s "$script_dir/wrk/post.lua" "$url" |
        sed -n 's/^BENCH_RESULT requests=\([0-9]*\).*/\1/p'
}

report() {
    echo "== $1: VmRSS $(awk '$1 == "VmRSS:" { print $2 }' "/proc/$frontend/status") kB, threads $(awk '$1 == "Threads:" { print $2 }' "/proc/$frontend/status")"
    awk '/^[0-9a-f]+-[0-9a-f]+ / {
             name = $6
             kind = name == "" ? "[anon]" : name ~ /\.so/ ? "so" : name ~ /\.dll$/ ? "dll" : name ~ /doublemapper/ ? "doublemapper" : name
         }
         /^Rss:/ { rss[kind] += $2 }
         END { for (kind in rss) if (rss[kind] >= 512) printf "   %-24s %8d kB\n", kind, rss[kind] }' "/proc/$frontend/smaps" | sort -k2 -n -r
    [[ "$mode" == bare* ]] ||
    curl -fsS -H "Authorization: Bearer $token" "http://127.0.0.1:$frontend_port/metrics" |
        awk '/^dotnet_gc_(collections_total|last_collection_heap_size_bytes|last_collection_memory_committed_size_bytes)/ {
                 name = $1; sub(/\{otel_scope_name="System.Runtime"\}/, "", name)
                 sub(/\{.*gc_heap_generation="/, "{", name); sub(/"\}/, "}", name)
                 printf "   %-60s %.0f\n", name, $2
             }'
    if ((top > 0)); then
        awk '/^[0-9a-f]+-[0-9a-f]+ / { name = $6 } /^Rss:/ && name ~ /\.(dll|so)/ { rss[name] += $2 }
             END { for (name in rss) printf "   %8d kB %s\n", rss[name], name }' "/proc/$frontend/smaps" | sort -n -r | head -n "$top" || true # head closes the pipe early
    fi
}

report idle
load "$connections" 5 >/dev/null # JIT warm-up
before="$(cpu_ticks "$frontend")"
requests="$(load "$connections" "$seconds")"
after="$(cpu_ticks "$frontend")"
echo "CPU: $(((after - before) * 1000000 / $(getconf CLK_TCK) / requests)) us per request over $requests requests ($connections connections)"
report "after $connections connections"
latency() {
    curl -fsS -o /dev/null -X POST -H 'Content-Type: application/json' -d "{\"latencyMs\":$1}" \
        "http://127.0.0.1:$fake_port/_fake/options"
}
latency "$slow_latency_ms"
load "$slow_connections" "$seconds" >/dev/null
report "after $slow_connections connections, $slow_latency_ms ms upstream"
for ((round = 2; round <= rounds; round++)); do
    latency 0
    load "$connections" "$seconds" >/dev/null
    latency "$slow_latency_ms"
    load "$slow_connections" "$seconds" >/dev/null
    report "round $round: after $connections connections, then $slow_connections connections at $slow_latency_ms ms"
done
