#!/usr/bin/env bash
# Runs a gemini-party cluster on this machine without Docker: redis-server, N silos and M frontends (2 and 2 by
# default), each a plain process logging to one folder. For trying the cluster and for benchmarks.
#
#   deploy/local/cluster.sh up       build once (Release), start everything, wait until every process is ready
#   deploy/local/cluster.sh status   what runs, where, and whether it is ready
#   deploy/local/cluster.sh down     stop frontends, then silos, then Redis (graceful, like a pod shutdown)
#   deploy/local/cluster.sh down --wipe   ... and delete Redis' data (counters, cooldowns, membership)
#
# GEMINI_API_KEY, AUTH_TOKEN, GEMINI_BASE_URL and the app's other settings come from the environment or, for
# those not set there, from the .env file at the repository root (CLUSTER_ENV_FILE to use another).
# Knobs (environment):
#   CLUSTER_DIR=.run/cluster    logs/, pids/, redis/ (the append-only file) live here
#   CLUSTER_REDIS_PORT=6390     CLUSTER_SILOS=2          CLUSTER_FRONTENDS=2
#   CLUSTER_FRONTEND_PORT=3000  frontend i listens on CLUSTER_FRONTEND_PORT + i - 1 (3000, 3001, ...)
#   CLUSTER_SILO_HTTP_PORT=8080 CLUSTER_SILO_PORT=11111  CLUSTER_GATEWAY_PORT=30000   (same + i - 1 scheme)
#   CLUSTER_TIMEOUT=90          seconds to wait for each process to be ready
#   CLUSTER_BUILD=1             0 skips `dotnet build` (use what is already built)
#   CLUSTER_DETACH=1            each process in its own session (setsid): closing the terminal does not stop it.
#                               0 keeps them in the caller's session. bench/run.sh does so, because with the kernel's
#                               autogroup scheduling every session is a group that gets an equal share of the CPU:
#                               detached, each process would compete with the load generator as a whole group.
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$script_dir/../.." && pwd)"

state_dir="${CLUSTER_DIR:-$repo_root/.run/cluster}"
log_dir="$state_dir/logs"
pid_dir="$state_dir/pids"
redis_dir="$state_dir/redis"
env_file="${CLUSTER_ENV_FILE:-$repo_root/.env}"

redis_port="${CLUSTER_REDIS_PORT:-6390}"
silo_count="${CLUSTER_SILOS:-2}"
frontend_count="${CLUSTER_FRONTENDS:-2}"
frontend_port="${CLUSTER_FRONTEND_PORT:-3000}"
silo_http_port="${CLUSTER_SILO_HTTP_PORT:-8080}"
silo_port="${CLUSTER_SILO_PORT:-11111}"
gateway_port="${CLUSTER_GATEWAY_PORT:-30000}"
ready_timeout="${CLUSTER_TIMEOUT:-90}"
detach="${CLUSTER_DETACH:-1}"
configuration=Release

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
}

die() {
    echo "cluster: $*" >&2
    exit 1
}

say() {
    echo "cluster: $*"
}

# Loads KEY=VALUE lines of the .env file into the environment, without overriding what is already set and
# without executing anything (values may hold commas, spaces or '$').
load_env_file() {
    [[ -f "$env_file" ]] || return 0
    local line key value
    while IFS= read -r line || [[ -n "$line" ]]; do
        line="${line%$'\r'}"
        [[ "$line" =~ ^[[:space:]]*(export[[:space:]]+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]] || continue
        key="${BASH_REMATCH[2]}"
        value="${BASH_REMATCH[3]}"
        if [[ "$value" =~ ^\"(.*)\"$ || "$value" =~ ^\'(.*)\'$ ]]; then
            value="${BASH_REMATCH[1]}"
        fi
        if [[ -z "${!key+set}" ]]; then
            export "$key=$value"
        fi
    done <"$env_file"
}

# Names of the processes, in start order.
process_names() {
    local i
    echo redis
    for ((i = 1; i <= silo_count; i++)); do echo "silo-$i"; done
    for ((i = 1; i <= frontend_count; i++)); do echo "frontend-$i"; done
}

# The readiness URL of a process (empty for Redis, which is checked with PING).
ready_url() {
    local name="$1" index="${1##*-}"
    case "$name" in
        silo-*) echo "http://127.0.0.1:$((silo_http_port + index - 1))/readyz" ;;
        frontend-*) echo "http://127.0.0.1:$((frontend_port + index - 1))/readyz" ;;
        *) echo "" ;;
    esac
}

# Prints the pid of a process this script started and that still runs; fails otherwise. The command line is
# compared too, so a pid reused by an unrelated process is never reported (or signalled).
running_pid() {
    local name="$1" pid_file="$pid_dir/$1.pid" pid expected
    [[ -f "$pid_file" ]] || return 1
    pid="$(<"$pid_file")"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    case "$name" in
        redis) expected=redis-server ;;
        silo-*) expected=GeminiParty.Silo ;;
        *) expected=GeminiParty.Frontend ;;
    esac
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "$expected" || return 1
    echo "$pid"
}

# shellcheck source=scripts/lib/processes.sh disable=SC1091 # checked on its own
source "$repo_root/scripts/lib/processes.sh"

show_log_tail() { show_tail "$log_dir/$1.log"; }

# Starts a command detached from this shell (its own session unless CLUSTER_DETACH=0: closing the terminal does not
# stop it), with its output appended to logs/NAME.log and its pid in pids/NAME.pid.
start_process() {
    local name="$1" workdir="$2"
    shift 2
    local log="$log_dir/$name.log"
    echo "==== $(date -Is) starting $name" >>"$log"
    [[ "$detach" == 0 ]] || set -- setsid "$@"
    (cd "$workdir" && exec "$@") </dev/null >>"$log" 2>&1 &
    echo "$!" >"$pid_dir/$name.pid"
    # Not this shell's job any more: no "Aborted"/"Killed" notices from bash when it ends.
    disown "$!"
}

# Waits until a process answers its readiness check; on exit or timeout, says why and shows its log.
wait_ready() {
    local name="$1" url deadline=$((SECONDS + ready_timeout)) status=0
    url="$(ready_url "$name")"
    if [[ "$name" != redis ]]; then
        # Only liveness here: right after the start the pid may still show the launching shell's command line.
        poll_http "$url" "$(<"$pid_dir/$name.pid")" "$ready_timeout" 0.5 || status=$?
        ((status == 0)) && return 0
        show_log_tail "$name"
        ((status == 2)) || die "$name exited during start; full log: $log_dir/$name.log (cluster.sh down stops the rest)"
        die "$name not ready at $url after ${ready_timeout}s; full log: $log_dir/$name.log (cluster.sh down stops the rest)"
    fi
    while ((SECONDS < deadline)); do
        if ! kill -0 "$(<"$pid_dir/$name.pid")" 2>/dev/null; then
            show_log_tail "$name"
            die "$name exited during start; full log: $log_dir/$name.log (cluster.sh down stops the rest)"
        fi
        [[ "$(redis-cli -p "$redis_port" ping 2>/dev/null)" == PONG ]] && return 0
        sleep 0.5
    done
    show_log_tail "$name"
    die "$name not ready${url:+ at $url} after ${ready_timeout}s; full log: $log_dir/$name.log (cluster.sh down stops the rest)"
}

# Path of a project's built assembly, asked from MSBuild so that output layout changes do not break the script.
target_path() {
    dotnet msbuild "$1" -nologo -getProperty:TargetPath -p:Configuration="$configuration"
}

cmd_up() {
    load_env_file
    [[ -n "${GEMINI_API_KEY:-}" ]] ||
        die "GEMINI_API_KEY is empty: export it or put it in $env_file (one or more keys separated by commas)"
    [[ -n "${AUTH_TOKEN:-}" ]] || say "warning: AUTH_TOKEN is empty"

    command -v redis-server >/dev/null || die "redis-server not found: apt-get install redis-server"
    command -v redis-cli >/dev/null || die "redis-cli not found: apt-get install redis-tools"
    command -v curl >/dev/null || die "curl not found: apt-get install curl"
    command -v dotnet >/dev/null || die "dotnet not found: install the .NET 10 SDK"

    local name
    for name in $(process_names); do
        if running_pid "$name" >/dev/null; then
            die "$name is already running (cluster.sh status; cluster.sh down to stop it)"
        fi
    done

    local i ports=("$redis_port")
    for ((i = 0; i < silo_count; i++)); do
        ports+=("$((silo_http_port + i))" "$((silo_port + i))" "$((gateway_port + i))")
    done
    for ((i = 0; i < frontend_count; i++)); do ports+=("$((frontend_port + i))"); done
    local port
    for port in "${ports[@]}"; do
        port_in_use "$port" && die "port $port is already in use (see the CLUSTER_*_PORT settings in cluster.sh)"
    done

    mkdir -p "$log_dir" "$pid_dir" "$redis_dir"

    if [[ "${CLUSTER_BUILD:-1}" != 0 ]]; then
        say "building ($configuration), log: $log_dir/build.log"
        if ! { dotnet build "$repo_root/src/Silo" -c "$configuration" -nologo &&
            dotnet build "$repo_root/src/Frontend" -c "$configuration" -nologo; } >"$log_dir/build.log" 2>&1; then
            grep -E "error|Error" "$log_dir/build.log" | tail -n 20 >&2 || true
            die "build failed; full log: $log_dir/build.log"
        fi
    fi
    local silo_dll frontend_dll
    silo_dll="$(target_path "$repo_root/src/Silo")"
    frontend_dll="$(target_path "$repo_root/src/Frontend")"
    [[ -f "$silo_dll" ]] || die "$silo_dll not built (run without CLUSTER_BUILD=0)"
    [[ -f "$frontend_dll" ]] || die "$frontend_dll not built (run without CLUSTER_BUILD=0)"

    # Persistence like production (append-only file), no RDB snapshots; data survives down/up in $redis_dir.
    start_process redis "$redis_dir" redis-server --port "$redis_port" --bind 127.0.0.1 \
        --save '' --appendonly yes --dir "$redis_dir"
    wait_ready redis
    say "redis       127.0.0.1:$redis_port"

    export REDIS_CONNECTION_STRING="127.0.0.1:$redis_port"
    export ORLEANS_ADVERTISED_IP=127.0.0.1

    # Silos first: a frontend's Orleans client needs a gateway registered in Redis to connect to.
    for ((i = 1; i <= silo_count; i++)); do
        start_process "silo-$i" "$(dirname "$silo_dll")" env \
            POD_NAME="silo-$i" PORT="$((silo_http_port + i - 1))" \
            ORLEANS_SILO_PORT="$((silo_port + i - 1))" ORLEANS_GATEWAY_PORT="$((gateway_port + i - 1))" \
            dotnet "$silo_dll"
    done
    for ((i = 1; i <= silo_count; i++)); do
        wait_ready "silo-$i"
        say "silo-$i      $(ready_url "silo-$i")  silo port $((silo_port + i - 1)), gateway $((gateway_port + i - 1))"
    done

    for ((i = 1; i <= frontend_count; i++)); do
        start_process "frontend-$i" "$(dirname "$frontend_dll")" env \
            POD_NAME="frontend-$i" PORT="$((frontend_port + i - 1))" \
            dotnet "$frontend_dll"
    done
    for ((i = 1; i <= frontend_count; i++)); do
        wait_ready "frontend-$i"
        say "frontend-$i  http://127.0.0.1:$((frontend_port + i - 1))"
    done
    say "up; logs in $log_dir"
}

# Sends SIGTERM to the named processes, waits up to `grace` seconds for all of them, then SIGKILLs the rest.
stop_processes() {
    local grace="$1" name pid
    shift
    local -a stopping=()
    for name in "$@"; do
        if pid="$(running_pid "$name")"; then
            kill -TERM "$pid" 2>/dev/null || true
            stopping+=("$name")
        else
            rm -f "$pid_dir/$name.pid"
        fi
    done
    local deadline=$((SECONDS + grace))
    for name in "${stopping[@]}"; do
        while pid="$(running_pid "$name")" && ((SECONDS < deadline)); do
            sleep 0.2
        done
        if pid="$(running_pid "$name")"; then
            say "$name did not stop within ${grace}s; killing it"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        say "$name stopped"
        rm -f "$pid_dir/$name.pid"
    done
}

cmd_down() {
    local wipe=0
    case "${1:-}" in
        "") ;;
        --wipe) wipe=1 ;;
        *) die "unknown option for down: $1" ;;
    esac
    local -a frontends=() silos=()
    local pid_file name
    # Stop what has pid files, whatever counts were used at `up`.
    for pid_file in "$pid_dir"/*.pid; do
        [[ -e "$pid_file" ]] || continue
        name="$(basename "$pid_file" .pid)"
        case "$name" in
            frontend-*) frontends+=("$name") ;;
            silo-*) silos+=("$name") ;;
        esac
    done
    # Frontends drain streams for up to ~30 s; silos flush counters in a few seconds.
    ((${#frontends[@]} == 0)) || stop_processes 40 "${frontends[@]}"
    ((${#silos[@]} == 0)) || stop_processes 40 "${silos[@]}"
    stop_processes 15 redis
    if ((wipe)); then
        rm -rf "$redis_dir"
        say "redis data deleted"
    fi
}

cmd_status() {
    local name pid url state ready
    printf '%-12s %-8s %-8s %s\n' NAME PID STATE READY
    for name in $(process_names); do
        url="$(ready_url "$name")"
        if pid="$(running_pid "$name")"; then
            state=running
            if [[ "$name" == redis ]]; then
                ready="$([[ "$(redis-cli -p "$redis_port" ping 2>/dev/null)" == PONG ]] && echo "yes (127.0.0.1:$redis_port)" || echo no)"
            elif curl -fsS --max-time 2 -o /dev/null "$url" 2>/dev/null; then
                ready="yes ($url)"
            else
                ready="no ($url)"
            fi
        else
            pid=-
            state=stopped
            ready=-
        fi
        printf '%-12s %-8s %-8s %s\n' "$name" "$pid" "$state" "$ready"
    done
    echo "logs: $log_dir"
}

main() {
    local command="${1:-}"
    case "$command" in
        up) cmd_up ;;
        down) shift; cmd_down "$@" ;;
        status) cmd_status ;;
        -h | --help | help) usage ;;
        *)
            usage >&2
            exit 2
            ;;
    esac
}

main "$@"
