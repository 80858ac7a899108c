#!/usr/bin/env bash
# Where a proxy's CPU goes, thread by thread: bench/threads.sh [embedded|bare]
#
# Starts the fast fake upstream and the target (the product in embedded mode, or bench/BareProxy; Release builds as
# they are: run bench/run.sh or dotnet build -c Release first), warms it up with THREADS_WARMUP seconds of wrk, then
# measures THREADS_SECONDS of native generateContent at THREADS_CONNECTIONS connections and prints, per thread name
# (/proc/PID/task/*: comm, status, stat), the context switches and the CPU time per request. It tells whether a
# difference in CPU per request is work (on thread-pool workers) or waking up (context switches), and which threads
# beyond the thread pool and the socket engine cost anything. Everything started is stopped on exit.
#
# Knobs: THREADS_SECONDS=10  THREADS_WARMUP=15  THREADS_CONNECTIONS=32  THREADS_PORT_BASE=18380
#        THREADS_ENV="DOTNET_... ..." extra environment for the target
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$script_dir/.." && pwd)"

target="${1:-embedded}"
[[ "$target" == embedded || "$target" == bare ]] || { echo "threads: the target is embedded or bare" >&2; exit 1; }
seconds="${THREADS_SECONDS:-10}"
warmup="${THREADS_WARMUP:-15}"
connections="${THREADS_CONNECTIONS:-32}"
port_base="${THREADS_PORT_BASE:-18380}"
read -r -a extra_env <<<"${THREADS_ENV:-}"
fake_port=$((port_base + 1))
target_port=$((port_base + 3))
key=AIzaThreads01-0123456789abcdefghijklmn
token=threads-client-token
work="$(mktemp -d "${TMPDIR:-/tmp}/gemini-party-threads.XXXXXX")"

command -v wrk >/dev/null || { echo "threads: wrk not found" >&2; exit 1; }
bench_name=threads
# shellcheck source=bench/lib.sh
source "$script_dir/lib.sh"
trap 'stop_started; rm -rf "$work"' EXIT

start_fake "$fake_port" "$key"
if [[ "$target" == bare ]]; then
    start target "$work" env PORT="$target_port" UPSTREAM="http://127.0.0.1:$fake_port" UPSTREAM_KEY="$key" "${extra_env[@]}" \
        dotnet "$repo_root/bench/BareProxy/bin/Release/net10.0/GeminiParty.BareProxy.dll"
    proxy="${pid_of[target]}"
else
    start_embedded target "$target_port" $((port_base + 41)) $((port_base + 51)) "http://127.0.0.1:$fake_port" "$key" "$token" \
        "${extra_env[@]}"
    proxy="${pid_of[target]}"
fi
wait_http fake "http://127.0.0.1:$fake_port/_fake/stats" 60
wait_http target "http://127.0.0.1:$target_port/healthz" 90

export BENCH_BODY_FILE="$script_dir/bodies/native.json" BENCH_AUTH_HEADER=Authorization BENCH_AUTH_VALUE="Bearer $token"
load() {
    wrk -t 2 -c "$connections" -d "${1}s" --timeout 10s -s "$script_dir/wrk/post.lua" \
        "http://127.0.0.1:$target_port/v1beta/models/gemini-2.5-flash:generateContent" | grep '^BENCH_RESULT'
}

# one line per thread: tid, name, context switches (voluntary + not), CPU ticks (utime + stime)
snapshot() {
    local task
    for task in /proc/"$proxy"/task/*; do
        printf '%s\t%s\t%s\t%s\n' "${task##*/}" "$(tr ' ' '_' <"$task/comm" 2>/dev/null)" \
            "$(awk '/^(non)?voluntary_ctxt_switches/ { n += $2 } END { print n + 0 }' "$task/status" 2>/dev/null)" \
            "$(sed 's/.*) //' "$task/stat" 2>/dev/null | awk '{ print $12 + $13 }')"
    done 2>/dev/null | awk -F'\t' 'NF == 4 && $2 != ""' | sort
}

load "$warmup" >/dev/null # JIT to tier 1
snapshot >"$work/before"
result="$(load "$seconds")"
snapshot >"$work/after"
requests="$(sed -n 's/.*requests=\([0-9]*\).*/\1/p' <<<"$result")"
echo "$target: $(cut -d' ' -f2-4 <<<"$result"), $connections connections"
printf '%-18s %10s %10s %10s\n' thread switches "per req" "us/req"
join -t $'\t' "$work/before" "$work/after" |
    awk -F'\t' -v req="$requests" -v tck="$(getconf CLK_TCK)" '
        { name = $2; cs[name] += $6 - $3; cpu[name] += $7 - $4 }
        END {
            for (n in cs) {
                total_cs += cs[n]; total_cpu += cpu[n]
                if (cs[n] > 0 || cpu[n] > 0) printf "%-18s %10d %10.3f %10.1f\n", n, cs[n], cs[n] / req, cpu[n] * 1e6 / tck / req
            }
            printf "%-18s %10d %10.3f %10.1f\n", "all threads", total_cs, total_cs / req, total_cpu * 1e6 / tck / req
        }' | sort -k4 -n -r
