# The one library of the benchmark scripts (run.sh, memory.sh, profile.sh, threads.sh): starting processes as children
# of the calling shell with their output in a log, waiting for them to answer, reading their CPU time and memory, and
# stopping what was started. The sourcing script sets repo_root (the repository), bench_name (the prefix of its
# messages) and work (the folder for logs) first; nice_level (default 0) is the niceness of what start runs.
# shellcheck shell=bash disable=SC2154  # repo_root, bench_name and work come from the sourcing script

# shellcheck source=scripts/lib/processes.sh disable=SC1091 # checked on its own
source "$repo_root/scripts/lib/processes.sh"

declare -A pid_of=() # name -> pid of what start started
started=()           # names, in start order

say() { echo "$bench_name: $*" >&2; }
die() { say "$*"; exit 1; }

# start NAME DIR CMD...: runs CMD in DIR as a child of this shell, at nice_level, output in $work/NAME.log.
start() {
    local name="$1" dir="$2"
    shift 2
    (cd "$dir" && exec nice -n "${nice_level:-0}" "$@") </dev/null >"$work/$name.log" 2>&1 &
    pid_of[$name]=$!
    started+=("$name")
}

# Stops what start started, newest first: SIGTERM, up to 10 s, then SIGKILL. Only pids recorded at start.
stop_started() {
    local i pid deadline
    for ((i = ${#started[@]} - 1; i >= 0; i--)); do
        pid="${pid_of[${started[i]}]}"
        kill -TERM "$pid" 2>/dev/null || continue
        deadline=$((SECONDS + 10))
        while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    started=()
}


# wait_http NAME URL TIMEOUT_S: until URL answers 2xx; fails with the log tail if NAME exits or time runs out.
wait_http() {
    local name="$1" url="$2" status=0
    poll_http "$url" "${pid_of[$name]:-0}" "$3" 0.05 || status=$?
    ((status == 0)) && return 0
    show_tail "$work/$name.log" 30
    ((status == 1)) && die "$name exited during start"
    die "$name not ready at $url after $3 s"
}

# status_kb PID FIELD: a /proc/PID/status figure in kB (VmRSS, VmHWM), 0 when the process is gone.
status_kb() { awk -v field="$2:" '$1 == field { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# cpu_ticks PID...: the sum of utime+stime (clock ticks). The command name may hold spaces: fields after the last ')'.
cpu_ticks() {
    local pid total=0 rest fields
    for pid in "$@"; do
        rest="$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null)" || continue
        read -r -a fields <<<"$rest"
        total=$((total + fields[11] + fields[12]))
    done
    echo "$total"
}

# start_fake PORT KEYS [NAME=VALUE...]: the fast fake upstream (tests/FakeGemini, Release) accepting the comma-separated
# KEYS, as "fake". Its answers weigh what Gemini's do: about 600 bytes for a whole answer, streams of 5 events with the
# usage in the last (BENCH_STREAM_EVENTS, BENCH_PIECE_CHARS: characters of text per event).
start_fake() {
    local port="$1" keys="$2"
    shift 2
    start fake "$work" env FAKE_GEMINI_FAST=1 FAKE_GEMINI_KEYS="$keys" DOTNET_gcServer=0 \
        FAKE_GEMINI_STREAM_EVENTS="${BENCH_STREAM_EVENTS:-5}" FAKE_GEMINI_PIECE_CHARS="${BENCH_PIECE_CHARS:-56}" "$@" \
        dotnet "$repo_root/tests/FakeGemini/bin/Release/net10.0/FakeGemini.dll" --urls "${fake_scheme:-http}://127.0.0.1:$port"
}

# start_embedded NAME PORT SILO_PORT GATEWAY_PORT UPSTREAM KEYS TOKEN [NAME=VALUE...] [DLL=path]: the product in
# embedded mode (Release), with its build output as working directory as in the container image: the content root,
# where appsettings.json (log levels) is read from.
start_embedded() {
    local name="$1" port="$2" silo_port="$3" gateway_port="$4" upstream="$5" keys="$6" token="$7"
    shift 7
    local dll="${embedded_dll:-$repo_root/src/Frontend/bin/Release/net10.0/GeminiParty.Frontend.dll}"
    start "$name" "$(dirname "$dll")" env GEMINI_API_KEY="$keys" AUTH_TOKEN="$token" GEMINI_BASE_URL="$upstream" \
        PORT="$port" ORLEANS_SILO_PORT="$silo_port" ORLEANS_GATEWAY_PORT="$gateway_port" "$@" dotnet "$dll"
}
