#!/usr/bin/env bash
# A bounded soak: the product under a steady mixed load for a few minutes while the fake upstream misbehaves on some
# keys (and, in cluster mode, the pool's silo is killed with -9 and restarted), then checks what clients and the fake
# saw. Writes tools/soak/results/<mode>-<date>.md, prints it, exits non-zero when a check fails.
#
#   tools/soak/run.sh [embedded|cluster] [seconds]     default: embedded 120
#
# What it runs: tests/FakeGemini and either one embedded frontend or deploy/local/cluster.sh (redis, 2 silos,
# 2 frontends) on free ports and a temporary CLUSTER_DIR, with 6 distinctive keys, BLACKLIST_TIMEOUT=5000 and
# DEFAULT_MAX_RETRIES=3. Every process it starts is stopped on exit, whatever happens. The driver is soak.mjs.
# Knobs (environment):
#   SOAK_RPS=40             requests per second offered (native, native SSE, OpenAI, OpenAI stream; 3 models)
#   SOAK_CONCURRENCY=96     most requests in flight; arrivals beyond it are shed and counted
#   SOAK_BUILD=1            0 uses the existing Release build
#   SOAK_KEEP=0             1 keeps the temporary directory (process logs) after the run
set -euo pipefail

mode="${1:-embedded}"
seconds="${2:-120}"
case "$mode" in embedded | cluster) ;; *) echo "usage: $0 [embedded|cluster] [seconds]" >&2; exit 2 ;; esac
[[ "$seconds" =~ ^[0-9]+$ ]] && ((seconds >= 30 && seconds <= 3600)) || { echo "soak: seconds must be 30..3600 (a shorter run does not reach every fault)" >&2; exit 2; }

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$script_dir/../.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/gemini-party-soak.XXXXXX")"
mkdir -p "$work/logs" "$work/pids"
cluster_dir="$work/cluster"
started_cluster=0

say() { echo "soak: $*" >&2; }

# Stops what this script started: the cluster through its own script (graceful, then its pid files by force), and
# every process group launched here.
cleanup() {
    local status=$?
    trap - EXIT INT TERM
    # the driver is bounded on its own; on an early exit (Ctrl-C, TERM) it goes first
    [[ -f "$work/driver.pid" ]] && kill -TERM "$(<"$work/driver.pid")" 2>/dev/null || true
    if ((started_cluster)); then
        CLUSTER_DIR="$cluster_dir" timeout 120 "$repo_root/deploy/local/cluster.sh" down >>"$work/logs/cluster-down.log" 2>&1 || true
        local pid_file
        for pid_file in "$cluster_dir"/pids/*.pid; do
            [[ -e "$pid_file" ]] || continue
            kill -KILL -- "-$(<"$pid_file")" 2>/dev/null || true
        done
    fi
    local pid_file pid
    for pid_file in "$work"/pids/*.pid; do
        [[ -e "$pid_file" ]] || continue
        pid="$(<"$pid_file")"
        kill -TERM -- "-$pid" 2>/dev/null || true
    done
    for pid_file in "$work"/pids/*.pid; do
        [[ -e "$pid_file" ]] || continue
        pid="$(<"$pid_file")"
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        kill -KILL -- "-$pid" 2>/dev/null || true
    done
    if [[ "${SOAK_KEEP:-0}" == 1 || $status -ne 0 ]]; then
        say "process logs kept in $work"
    else
        rm -rf "$work"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# shellcheck source=scripts/lib/processes.sh disable=SC1091 # checked on its own
source "$repo_root/scripts/lib/processes.sh"

# Prints a base port such that base..base+count-1 are all free.
free_port_block() {
    local count="$1" base i
    for _ in $(seq 1 50); do
        base=$((20000 + RANDOM % 30000))
        for ((i = 0; i < count; i++)); do port_in_use $((base + i)) && continue 2; done
        echo "$base"
        return 0
    done
    say "no block of $count free ports found"
    return 1
}

# Starts a command in a process group of its own, output to logs/NAME.log, pid to pids/NAME.pid.
launch() {
    local name="$1" dir="$2"
    shift 2
    (cd "$dir" && exec setsid "$@") </dev/null >>"$work/logs/$name.log" 2>&1 &
    echo "$!" >"$work/pids/$name.pid"
}

wait_http() {
    local name="$1" url="$2" pid=0 status=0
    [[ -f "$work/pids/$name.pid" ]] && pid="$(<"$work/pids/$name.pid")"
    poll_http "$url" "$pid" 90 0.5 || status=$?
    ((status == 0)) && return 0
    show_tail "$work/logs/$name.log" 20
    if ((status == 1)); then say "$name exited during start"; else say "$name not ready at $url after 90 s"; fi
    return 1
}

# Settings that must come from this script only, not from the caller's shell or a .env file.
product_settings=(API_PREFIX AUTH_TOKEN BLACKLIST_TIMEOUT COUNTER_FLUSH_INTERVAL DEFAULT_MAX_RETRIES GEMINI_API_KEY
    GEMINI_BASE_URL MAX_REQUEST_BODY_MB ORLEANS_ADVERTISED_IP ORLEANS_CLUSTER_ID ORLEANS_GATEWAY_PORT ORLEANS_SERVICE_ID
    ORLEANS_SILO_PORT POD_IP POD_NAME PORT REDIS_CONNECTION_STRING ROTATION_RESET_INTERVAL STREAM_IDLE_TIMEOUT
    UPSTREAM_TIMEOUT ASPNETCORE_URLS URLS HARM_CATEGORY_HARASSMENT HARM_CATEGORY_HATE_SPEECH
    HARM_CATEGORY_SEXUALLY_EXPLICIT HARM_CATEGORY_DANGEROUS_CONTENT HARM_CATEGORY_CIVIC_INTEGRITY)
for setting in "${product_settings[@]}"; do unset "$setting"; done

command -v node >/dev/null || { say "node not found (Node.js 20 or later)"; exit 2; }
command -v dotnet >/dev/null || { say "dotnet not found (.NET 10 SDK)"; exit 2; }
[[ "$mode" == embedded ]] || command -v redis-server >/dev/null || { say "redis-server not found"; exit 2; }

if [[ "${SOAK_BUILD:-1}" != 0 ]]; then
    say "building Release (log: $work/logs/build.log)"
    projects=(src/Frontend tests/FakeGemini)
    [[ "$mode" == cluster ]] && projects+=(src/Silo)
    for project in "${projects[@]}"; do
        if ! dotnet build "$repo_root/$project" -c Release -nologo -v quiet >>"$work/logs/build.log" 2>&1; then
            grep -E " error " "$work/logs/build.log" | sort -u | tail -n 20 >&2 || true
            say "build of $project failed"
            exit 2
        fi
    done
fi
frontend_dll="$repo_root/src/Frontend/bin/Release/net10.0/GeminiParty.Frontend.dll"
fake_dll="$repo_root/tests/FakeGemini/bin/Release/net10.0/FakeGemini.dll"
silo_dll="$repo_root/src/Silo/bin/Release/net10.0/GeminiParty.Silo.dll"
for dll in "$frontend_dll" "$fake_dll"; do [[ -f "$dll" ]] || { say "$dll is missing: run without SOAK_BUILD=0"; exit 2; }; done

# Distinctive keys (never real ones): a leak would show them in a response or a log.
keys=()
for i in 0 1 2 3 4 5; do keys+=("AIzaSySoakKey${i}-$(printf '%s' "soak$i" | sha256sum | cut -c1-20)"); done
key_list="$(IFS=,; echo "${keys[*]}")"
token="soak-client-token-$RANDOM$RANDOM"

fake_port="$(free_port_block 1)"
launch fake "$work" env FAKE_GEMINI_KEYS="$key_list" dotnet "$fake_dll" --urls "http://127.0.0.1:$fake_port"
fake_url="http://127.0.0.1:$fake_port"
wait_http fake "$fake_url/_fake/stats"
say "fake upstream at $fake_url"

export GEMINI_API_KEY="$key_list" AUTH_TOKEN="$token" GEMINI_BASE_URL="$fake_url" BLACKLIST_TIMEOUT=5000 DEFAULT_MAX_RETRIES=3
export DOTNET_NOLOGO=1
pid_files="fake=$work/pids/fake.pid"
targets=""
silo_ctl=""
silo_base=0
if [[ "$mode" == embedded ]]; then
    base="$(free_port_block 3)"
    launch frontend "$work" env PORT="$base" ORLEANS_SILO_PORT=$((base + 1)) ORLEANS_GATEWAY_PORT=$((base + 2)) dotnet "$frontend_dll"
    targets="http://127.0.0.1:$base"
    wait_http frontend "$targets/readyz"
    pid_files+=",frontend=$work/pids/frontend.pid"
    say "embedded frontend at $targets"
else
    [[ -f "$silo_dll" ]] || { say "$silo_dll is missing: run without SOAK_BUILD=0"; exit 2; }
    # redis, 2 frontends, 2 silos x (http, silo, gateway): 9 ports in one block, laid out as cluster.sh counts them
    base="$(free_port_block 9)"
    # CLUSTER_DETACH=0: the cluster stays in this run's session, as bench/run.sh keeps it, so that with the kernel's
    # autogroup scheduling its processes share the CPU with the driver and the fake as one group instead of each
    # competing as a group of its own; the cleanup above stops it either way
    export CLUSTER_DIR="$cluster_dir" CLUSTER_ENV_FILE=/nonexistent CLUSTER_BUILD=0 CLUSTER_TIMEOUT=120 CLUSTER_DETACH=0
    export CLUSTER_REDIS_PORT="$base" CLUSTER_FRONTEND_PORT=$((base + 1)) CLUSTER_SILO_HTTP_PORT=$((base + 3))
    export CLUSTER_SILO_PORT=$((base + 5)) CLUSTER_GATEWAY_PORT=$((base + 7))
    started_cluster=1
    say "starting the cluster (logs: $cluster_dir/logs)"
    "$repo_root/deploy/local/cluster.sh" up >"$work/logs/cluster-up.log" 2>&1 || { cat "$work/logs/cluster-up.log" >&2; exit 2; }
    targets="http://127.0.0.1:$CLUSTER_FRONTEND_PORT,http://127.0.0.1:$((CLUSTER_FRONTEND_PORT + 1))"
    for name in redis silo-1 silo-2 frontend-1 frontend-2; do pid_files+=",$name=$cluster_dir/pids/$name.pid"; done
    silo_base="$CLUSTER_SILO_PORT"
    # kill -9 / start one silo exactly as cluster.sh starts it (same command, environment, log and pid file)
    silo_ctl="$work/silo-ctl.sh"
    cat >"$silo_ctl" <<EOF
#!/usr/bin/env bash
set -euo pipefail
action="\$1"; name="\$2"; i="\${name#silo-}"
pid_file=$(printf %q "$cluster_dir/pids")/\$name.pid
case "\$action" in
    kill) kill -KILL "\$(<"\$pid_file")" ;;
    start)
        export REDIS_CONNECTION_STRING=127.0.0.1:$CLUSTER_REDIS_PORT ORLEANS_ADVERTISED_IP=127.0.0.1
        echo "==== \$(date -Is) restarting \$name (soak)" >>$(printf %q "$cluster_dir/logs")/\$name.log
        (cd $(printf %q "$(dirname "$silo_dll")") && exec setsid env POD_NAME="\$name" PORT=\$(($CLUSTER_SILO_HTTP_PORT + i - 1)) \\
            ORLEANS_SILO_PORT=\$(($CLUSTER_SILO_PORT + i - 1)) ORLEANS_GATEWAY_PORT=\$(($CLUSTER_GATEWAY_PORT + i - 1)) \\
            dotnet $(printf %q "$silo_dll")) </dev/null >>$(printf %q "$cluster_dir/logs")/\$name.log 2>&1 &
        echo "\$!" >"\$pid_file"
        for _ in \$(seq 1 240); do
            curl -fsS --max-time 2 -o /dev/null "http://127.0.0.1:\$(($CLUSTER_SILO_HTTP_PORT + i - 1))/readyz" 2>/dev/null && exit 0
            sleep 0.5
        done
        echo "\$name not ready after 120 s" >&2; exit 1 ;;
esac
EOF
    say "cluster up: frontends $targets"
fi

date_tag="$(date -u +%Y%m%d-%H%M%S)"
report="$script_dir/results/$mode-$date_tag.md"
set +e
SOAK_MODE="$mode" SOAK_SECONDS="$seconds" SOAK_TARGETS="$targets" SOAK_TOKEN="$token" SOAK_FAKE_URL="$fake_url" \
    SOAK_KEYS="$key_list" SOAK_COOLDOWN_SECONDS=5 SOAK_MAX_ATTEMPTS=3 SOAK_PID_FILES="$pid_files" \
    SOAK_SILO_CTL="$silo_ctl" SOAK_SILO_PORT="$silo_base" SOAK_REPORT="$report" \
    SOAK_COMMIT="$(git -C "$repo_root" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$repo_root" diff --quiet HEAD -- src 2>/dev/null || echo ' (with uncommitted changes in src/)')" \
    SOAK_FLUSH_WAIT_MS=$([[ "$mode" == cluster ]] && echo 4000 || echo 2500) \
    node "$script_dir/soak.mjs" &
driver=$!
echo "$driver" >"$work/driver.pid"
wait "$driver"
status=$?
set -e

# No pool key and no client token in any process log (the product logs masked keys and aliases only).
leaks=0
log_dirs=("$work/logs")
[[ "$mode" == cluster ]] && log_dirs+=("$cluster_dir/logs")
for secret in "${keys[@]}" "$token"; do
    if grep -rqF --exclude=build.log -- "$secret" "${log_dirs[@]}"; then leaks=$((leaks + 1)); fi
done
scan="Secrets in process logs: $((${#keys[@]} + 1)) secrets (6 pool keys, the client token) searched in every process log: "
if ((leaks)); then scan+="**FAIL**, $leaks found."; status=1; else scan+="none found."; fi
echo "$scan"
[[ -f "$report" ]] && printf '\n%s\n' "$scan" >>"$report" && say "report: $report"
exit "$status"
