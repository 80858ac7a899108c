# Sourced by bench/memory.sh, bench/profile.sh and bench/threads.sh: starting the fast fake upstream and the embedded
# frontend from their Release builds, waiting for them, and stopping what was started. The sourcing script sets
# repo_root (the repository) and bench_name (the prefix of its error messages) first.
# shellcheck shell=bash disable=SC2154  # repo_root and bench_name come from the sourcing script

started_pids=()

# Stops every process started here: TERM to each, then waits for each.
stop_started() {
    local pid
    for pid in "${started_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${started_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}

# wait_http URL: waits up to 60 s for URL to answer with a success; ends the script otherwise.
wait_http() {
    local deadline=$((SECONDS + 60))
    until curl -fsS --max-time 1 -o /dev/null "$1" 2>/dev/null; do
        ((SECONDS < deadline)) || { echo "$bench_name: $1 not ready" >&2; exit 1; }
        sleep 0.1
    done
}

# start_fake LOG_DIR PORT KEY: the fake upstream with small fixed answers, accepting KEY; logs to LOG_DIR/fake.log.
start_fake() {
    (cd "$1" && FAKE_GEMINI_FAST=1 FAKE_GEMINI_KEYS="$3" exec dotnet \
        "$repo_root/tests/FakeGemini/bin/Release/net10.0/FakeGemini.dll" --urls "http://127.0.0.1:$2") >"$1/fake.log" 2>&1 &
    started_pids+=($!)
}

# start_embedded LOG_DIR PORT SILO_PORT_BASE FAKE_PORT KEY TOKEN [NAME=VALUE...]: the product in embedded mode with its
# build output as working directory (as the image does), its silo on SILO_PORT_BASE + 41 and + 51; sets embedded_pid.
start_embedded() {
    local log_dir="$1" port="$2" silo_port_base="$3" fake_port="$4" key="$5" token="$6"
    shift 6
    (cd "$repo_root/src/Frontend/bin/Release/net10.0" && exec env GEMINI_API_KEY="$key" AUTH_TOKEN="$token" \
        GEMINI_BASE_URL="http://127.0.0.1:$fake_port" PORT="$port" ORLEANS_SILO_PORT=$((silo_port_base + 41)) \
        ORLEANS_GATEWAY_PORT=$((silo_port_base + 51)) "$@" dotnet GeminiParty.Frontend.dll) >"$log_dir/frontend.log" 2>&1 &
    embedded_pid=$!
    started_pids+=("$embedded_pid")
}
