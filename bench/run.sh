#!/usr/bin/env bash
# The gateway benchmark, one command: bench/run.sh
#
# Builds Release once, then starts on 127.0.0.1 only:
#   - the fast fake upstream (tests/FakeGemini, FAKE_GEMINI_FAST=1: fixed answers of realistic size, no recording)
#   - nginx as the reference reverse proxy (keep-alive to upstream; config, pid and logs in a temp dir)
#   - a bare .NET reverse proxy (bench/BareProxy: Kestrel in, one SocketsHttpHandler out, nothing else): the floor of
#     the gateway's own stack, so that its cost splits into the framework's and the gateway's
#   - the product in embedded mode (one process: frontend + silo, memory storage)
#   - the same again with a CLIENTS_FILE, loaded with the token of a named client whose limits are high enough never
#     to refuse (BENCH_CLIENT_LIMITS): the "clients" target, whose CPU per request against "embedded" is what a
#     client's limits cost (the client grain's admission before each request, its completion after it)
#   - the product in cluster mode through deploy/local/cluster.sh (redis + 2 silos + 1 frontend)
# and runs wrk (bench/wrk/post.lua) interleaved over the targets direct, nginx, bare, embedded, clients and cluster for each
# scenario, so that the ratios come from the same minutes on a noisy machine:
#   native   POST /v1beta/models/M:generateContent                 BENCH_CONNECTIONS (32) connections
#   openai   POST /v1/chat/completions (upstream /v1beta/openai/...) same
#   stream   POST /v1beta/models/M:streamGenerateContent?alt=sse    same
#   slow     native with BENCH_SLOW_LATENCY_MS (50) ms upstream latency, BENCH_SLOW_CONNECTIONS (256) connections
#   interaction  POST /v1beta/interactions, a new interaction each (bound to its key): only when BENCH_SCENARIOS names it
# It reports requests/s, p50/p90/p99 (wrk), ratio to direct, added latency, proxy CPU per request (utime+stime from
# /proc/PID/stat over each run / requests), RSS idle and after load (VmRSS) and peak (VmHWM), unloaded latency of
# unary calls made one at a time (curl), streaming time to first byte (curl), and the embedded frontend's start-up
# time to ready. Everything it started is stopped on exit,
# failure or Ctrl-C. The table goes to bench/results/latest.md (BENCH_OUT) and to stdout.
#
# The "slow" scenario switches the same fake to 50 ms through its control API (POST /_fake/options) instead of
# starting a second fake: the products take their upstream from GEMINI_BASE_URL at start, so a second fake would
# need a second embedded process and a second cluster frontend, which would then be measured cold.
#
# Knobs (environment):
#   BENCH_QUICK=1               ~3 s per run, 1 s warm-up, 5 s JIT warm-up, fewer TTFB samples (about 3 minutes)
#   BENCH_DURATION=10           seconds per measured wrk run          BENCH_WARMUP=2   seconds of warm-up per run
#   BENCH_JIT_WARMUP=15         seconds of load per target and scenario before anything is measured (quick: 5; 0 measures
#                               a process as it starts, still tiering up)
#   BENCH_UPSTREAM_TLS=0        1: the fake upstream serves HTTPS with a self-signed certificate that every process
#                               trusts through SSL_CERT_FILE, as the real hop to Google is TLS; the table then also
#                               counts the upstream connections each target opened per 1,000 requests
#   BENCH_ROUNDS=1              interleaved rounds over every scenario and target; the table shows medians (3 or more
#                               on a shared machine, where one run differs from the next by up to a third)
#   BENCH_CONNECTIONS=32        BENCH_SLOW_CONNECTIONS=256            BENCH_SLOW_LATENCY_MS=50
#   BENCH_THREADS=2             wrk threads                           BENCH_TTFB_SAMPLES=30
#   BENCH_UNLOADED_REQUESTS=500 BENCH_UNLOADED_ROUNDS=4   sequential unary requests per target and round (quick: 200, 2;
#                               0 skips the unloaded latency, as BENCH_TTFB_SAMPLES=0 skips the streaming first byte)
#   BENCH_SCENARIOS="native openai stream slow"                      BENCH_TARGETS="direct nginx bare embedded clients cluster"
#   BENCH_CLIENT_LIMITS="rpd=2000000000 tpd=1000000000000000 concurrency=100000"  the limits of the "clients" target's
#                               client. No rpm by default: its ceiling (100,000 a minute, 1,667/s) is below the rate
#                               a saturated gateway serves, so it would refuse. With concurrency and tpd every request
#                               makes both grain calls (admit, and complete), the dearest path. Errors other than 0 in
#                               the clients rows mean the limits refused requests: raise them.
#   BENCH_KEYS=8                upstream keys in the pool             BENCH_PORT_BASE=18080 (uses base .. base+60)
#   BENCH_BUILD=1               0 skips the Release build             BENCH_OUT=bench/results/latest.md
#   BENCH_VARIANT_ENV="DOTNET_gcServer=1 ..."  adds a target "variant": a second embedded frontend started with this
#                               extra environment, measured interleaved with the others (A/B of runtime settings)
#   BENCH_VARIANT_DLL=<path>    the variant runs this build of GeminiParty.Frontend.dll instead (A/B of two commits:
#                               git worktree add /tmp/old REV && dotnet build -c Release /tmp/old/src/Frontend)
#   BENCH_COMMIT=<label>        what the report names as the code measured (default: git HEAD, + local changes)
#   BENCH_KEEP=0                1 keeps the temp dir (logs, raw wrk output) after the run
#   BENCH_NICE=-15              niceness of every benchmark process (root only; 0 to leave as is): other work on a
#                               shared machine then steals less from the run. The load average goes in the report.
# Needs: dotnet (SDK 10), nginx, wrk, curl, redis-server (apt-get install nginx-light wrk redis-server curl).
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$script_dir/.." && pwd)"

if [[ "${BENCH_QUICK:-0}" == 1 ]]; then
    duration="${BENCH_DURATION:-3}"
    warmup="${BENCH_WARMUP:-1}"
    jit_warmup="${BENCH_JIT_WARMUP:-5}"
    ttfb_samples="${BENCH_TTFB_SAMPLES:-10}"
    unloaded_requests="${BENCH_UNLOADED_REQUESTS:-200}"
    unloaded_rounds="${BENCH_UNLOADED_ROUNDS:-2}"
else
    duration="${BENCH_DURATION:-10}"
    warmup="${BENCH_WARMUP:-2}"
    jit_warmup="${BENCH_JIT_WARMUP:-15}"
    ttfb_samples="${BENCH_TTFB_SAMPLES:-30}"
    unloaded_requests="${BENCH_UNLOADED_REQUESTS:-500}"
    unloaded_rounds="${BENCH_UNLOADED_ROUNDS:-4}"
fi
connections="${BENCH_CONNECTIONS:-32}"
slow_connections="${BENCH_SLOW_CONNECTIONS:-256}"
slow_latency_ms="${BENCH_SLOW_LATENCY_MS:-50}"
threads="${BENCH_THREADS:-2}"
rounds="${BENCH_ROUNDS:-1}"
read -r -a scenarios <<<"${BENCH_SCENARIOS:-native openai stream slow}"
read -r -a variant_env <<<"${BENCH_VARIANT_ENV:-}"
variant_dll="${BENCH_VARIANT_DLL:-}"
variant_label="${variant_env[*]}"
[[ -z "$variant_dll" ]] || variant_label="build $variant_dll${variant_label:+ with $variant_label}"
default_targets="direct nginx bare embedded clients cluster"
[[ -z "$variant_label" ]] || default_targets="direct nginx bare embedded variant clients cluster"
read -r -a targets <<<"${BENCH_TARGETS:-$default_targets}"
key_count="${BENCH_KEYS:-8}"
nice_level="${BENCH_NICE:-$([[ "$(id -u)" == 0 ]] && echo -15 || echo 0)}"
port_base="${BENCH_PORT_BASE:-18080}"
out_file="${BENCH_OUT:-$repo_root/bench/results/latest.md}"
model=gemini-2.5-flash
token=bench-client-token
client_token=bench-limited-client-token
client_limits="${BENCH_CLIENT_LIMITS:-rpd=2000000000 tpd=1000000000000000 concurrency=100000}"

fake_port=$((port_base + 1))
upstream_tls="${BENCH_UPSTREAM_TLS:-0}"
fake_scheme=http
[[ "$upstream_tls" != 1 ]] || fake_scheme=https
fake_url="$fake_scheme://127.0.0.1:$fake_port"
nginx_port=$((port_base + 2))
embedded_port=$((port_base + 3))
cluster_frontend_port=$((port_base + 4))
variant_port=$((port_base + 5))
bare_port=$((port_base + 6))
clients_port=$((port_base + 7))
redis_port=$((port_base + 10))
cluster_silo_http_port=$((port_base + 11))   # and +12
cluster_silo_port=$((port_base + 21))        # and +22
cluster_gateway_port=$((port_base + 31))     # and +32
embedded_silo_port=$((port_base + 41))
embedded_gateway_port=$((port_base + 51))
variant_silo_port=$((port_base + 42))
variant_gateway_port=$((port_base + 52))
clients_silo_port=$((port_base + 43))
clients_gateway_port=$((port_base + 53))

clk_tck="$(getconf CLK_TCK)"
work="$(mktemp -d "${TMPDIR:-/tmp}/gemini-party-bench.XXXXXX")"
results="$work/results.tsv"     # scenario target requests rps p50 p90 p99 errors proxy_ticks silo_ticks
cluster_started=0
failed=1
bench_name=bench
# shellcheck source=bench/lib.sh
source "$script_dir/lib.sh"

# Stops what this script started (the cluster through its script), newest first.
cleanup() {
    local status=$?
    trap - EXIT INT TERM
    if ((cluster_started)); then
        CLUSTER_DIR="$work/cluster" "$repo_root/deploy/local/cluster.sh" down >"$work/cluster-down.log" 2>&1 ||
            say "cluster.sh down failed; see $work/cluster-down.log"
    fi
    stop_started
    if ((failed)) || [[ "${BENCH_KEEP:-0}" == 1 ]]; then
        say "logs and raw output kept in $work"
    else
        rm -rf "$work"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# The processes whose CPU counts as "the proxy" of a target (nginx: master and workers).
proxy_pids() {
    case "$1" in
        direct) echo "${pid_of[fake]}" ;;
        nginx) echo "${pid_of[nginx]}" "$(ps -o pid= --ppid "${pid_of[nginx]}" | tr -s ' \n' ' ')" ;;
        embedded) echo "${pid_of[embedded]}" ;;
        variant) echo "${pid_of[variant]}" ;;
        clients) echo "${pid_of[clients]}" ;;
        bare) echo "${pid_of[bare]}" ;;
        cluster) echo "$(<"$work/cluster/pids/frontend-1.pid")" ;;
    esac
}

silo_pids() {
    [[ "$1" == cluster ]] || return 0
    echo "$(<"$work/cluster/pids/silo-1.pid")" "$(<"$work/cluster/pids/silo-2.pid")"
}

# target_request TARGET SCENARIO: prints "URL AUTH_HEADER AUTH_VALUE BODY_FILE". Direct calls carry a pool key as the
# product would send it upstream; the proxies get the client token (nginx ignores it and sets the key itself).
target_request() {
    local target="$1" scenario="$2" port path header value body="$script_dir/bodies/native.json"
    case "$scenario" in
        native | slow) path="/v1beta/models/$model:generateContent" ;;
        stream) path="/v1beta/models/$model:streamGenerateContent?alt=sse" ;;
        openai) path="/v1/chat/completions"; body="$script_dir/bodies/openai.json" ;;
        interaction) path="/v1beta/interactions"; body="$script_dir/bodies/interaction.json" ;;
    esac
    header=Authorization
    value="Bearer $token"
    case "$target" in
        direct)
            port="$fake_port"
            if [[ "$scenario" == openai ]]; then
                path="/v1beta/openai/chat/completions"
                value="Bearer $key1"
            else
                header=x-goog-api-key
                value="$key1"
            fi
            ;;
        nginx) port="$nginx_port" ;;
        bare) port="$bare_port" ;;
        embedded) port="$embedded_port" ;;
        variant) port="$variant_port" ;;
        clients) port="$clients_port"; value="Bearer $client_token" ;;
        cluster) port="$cluster_frontend_port" ;;
    esac
    local scheme=http
    [[ "$target" != direct ]] || scheme="$fake_scheme"
    printf '%s\t%s\t%s\t%s\n' "$scheme://127.0.0.1:$port$path" "$header" "$value" "$body"
}

# run_wrk TARGET SCENARIO CONNECTIONS SECONDS: prints the BENCH_RESULT line of post.lua.
run_wrk() {
    local url header value body
    IFS=$'\t' read -r url header value body < <(target_request "$1" "$2")
    BENCH_BODY_FILE="$body" BENCH_AUTH_HEADER="$header" BENCH_AUTH_VALUE="$value" \
        nice -n "$nice_level" wrk -t "$threads" -c "$3" -d "${4}s" --timeout 10s -s "$script_dir/wrk/post.lua" "$url" >"$work/wrk-last.txt" 2>&1 ||
        { cat "$work/wrk-last.txt" >&2; die "wrk failed for $1/$2"; }
    cat "$work/wrk-last.txt" >>"$work/wrk-all.txt"
    grep '^BENCH_RESULT ' "$work/wrk-last.txt" || die "no result line from wrk for $1/$2"
}

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }

declare -A rss_after=()   # target -> largest VmRSS (kB) seen right after a run

# Bytes the gateway process has allocated on the managed heap so far (the runtime's counter, from /metrics); nothing
# for targets that are not the gateway. The embedded process's figure includes its silo's.
allocated_bytes() {
    local port
    case "$1" in
        embedded) port="$embedded_port" ;;
        variant) port="$variant_port" ;;
        clients) port="$clients_port" ;;
        cluster) port="$cluster_frontend_port" ;;
        *) return 0 ;;
    esac
    curl -fsS --max-time 5 -H "Authorization: Bearer $token" "http://127.0.0.1:$port/metrics" |
        awk '/^dotnet_gc_heap_total_allocated_bytes_total/ { printf "%.0f", $2 }'
}

# Connections the fake upstream has accepted so far: a proxy that does not keep its upstream connections alive opens
# many (over TLS, each a handshake).
upstream_connections() { curl -fsS --max-time 5 "$fake_url/_fake/stats" | sed -nE 's/.*"connections":([0-9]+).*/\1/p'; }

measure() {
    local scenario="$1" target="$2" conns="$3" line before after silo_before=0 silo_after=0 pids silos
    local opened_before opened_after
    opened_before="$(upstream_connections)"
    read -r -a pids <<<"$(proxy_pids "$target")"
    read -r -a silos <<<"$(silo_pids "$target")"
    before="$(cpu_ticks "${pids[@]}")"
    ((${#silos[@]} == 0)) || silo_before="$(cpu_ticks "${silos[@]}")"
    local alloc_before alloc_after allocated=""
    alloc_before="$(allocated_bytes "$target")"
    line="$(run_wrk "$target" "$scenario" "$conns" "$duration")"
    after="$(cpu_ticks "${pids[@]}")"
    ((${#silos[@]} == 0)) || silo_after="$(cpu_ticks "${silos[@]}")"
    alloc_after="$(allocated_bytes "$target")"
    opened_after="$(upstream_connections)"
    [[ -z "$alloc_before" || -z "$alloc_after" ]] || allocated=$((alloc_after - alloc_before))
    local rss=0 pid kb
    for pid in "${pids[@]}"; do kb="$(status_kb "$pid" VmRSS)"; rss=$((rss + ${kb:-0})); done
    if ((rss > ${rss_after[$target]:-0})); then rss_after[$target]=$rss; fi
    local errors=$(($(field err_connect "$line") + $(field err_read "$line") + $(field err_write "$line") +
        $(field err_status "$line") + $(field err_timeout "$line")))
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$scenario" "$target" "$(field requests "$line")" \
        "$(field rps "$line")" "$(field p50_us "$line")" "$(field p90_us "$line")" "$(field p99_us "$line")" \
        "$errors" "$((after - before))" "$((silo_after - silo_before))" "$allocated" \
        "$((${opened_after:-0} - ${opened_before:-0}))" >>"$results"
    say "$(printf '%-7s %-9s %9s req/s  p50 %6s us  p99 %7s us  errors %s  rss %s MB' "$scenario" "$target" \
        "$(field rps "$line")" "$(field p50_us "$line")" "$(field p99_us "$line")" "$errors" "$((rss / 1024))")"
}

fake_options() {
    curl -fsS -o /dev/null -X POST -H 'Content-Type: application/json' -d "$1" \
        "$fake_url/_fake/options" || die "could not change the fake's options ($1)"
}

# ---- checks and build ----------------------------------------------------------------------------------------
for tool in dotnet nginx wrk curl redis-server redis-cli; do
    command -v "$tool" >/dev/null || die "$tool not found (apt-get install nginx-light wrk curl redis-server)"
done
for ((port = port_base; port <= port_base + 60; port++)); do
    port_in_use "$port" && die "port $port is in use: set BENCH_PORT_BASE to a free range of 61 ports"
done
mkdir -p "$(dirname "$out_file")"

if [[ "${BENCH_BUILD:-1}" != 0 ]]; then
    say "building Release (log: $work/build.log)"
    for project in src/Frontend src/Silo tests/FakeGemini bench/BareProxy; do
        dotnet build "$repo_root/$project" -c Release -nologo -v q >>"$work/build.log" 2>&1 ||
            { grep -E 'error' "$work/build.log" | tail -n 20 >&2; die "build of $project failed"; }
    done
fi
fake_dll="$repo_root/tests/FakeGemini/bin/Release/net10.0/FakeGemini.dll"
frontend_dll="$repo_root/src/Frontend/bin/Release/net10.0/GeminiParty.Frontend.dll"
bare_dll="$repo_root/bench/BareProxy/bin/Release/net10.0/GeminiParty.BareProxy.dll"
for dll in "$fake_dll" "$frontend_dll" "$repo_root/src/Silo/bin/Release/net10.0/GeminiParty.Silo.dll" "$bare_dll"; do
    [[ -f "$dll" ]] || die "$dll is not built (run without BENCH_BUILD=0)"
done

keys=()
for ((i = 1; i <= key_count; i++)); do keys+=("AIzaBench$(printf '%02d' "$i")-0123456789abcdefghijklmnopq"); done
key1="${keys[0]}"
key_list="$(IFS=,; echo "${keys[*]}")"

# ---- processes --------------------------------------------------------------------------------------------------
say "work dir $work"
fake_tls=()
if [[ "$upstream_tls" == 1 ]]; then
    # one self-signed certificate for 127.0.0.1, trusted by every process through the variables OpenSSL (and so .NET,
    # nginx, curl and wrk) reads: what the run measures is the TLS hop, not a verification shortcut
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=127.0.0.1 \
        -addext subjectAltName=IP:127.0.0.1 -keyout "$work/upstream-key.pem" -out "$work/upstream-cert.pem" 2>/dev/null ||
        die "openssl could not make the upstream certificate"
    export SSL_CERT_FILE="$work/upstream-cert.pem" CURL_CA_BUNDLE="$work/upstream-cert.pem"
    fake_tls=(Kestrel__Certificates__Default__Path="$work/upstream-cert.pem" Kestrel__Certificates__Default__KeyPath="$work/upstream-key.pem")
fi
start_fake "$fake_port" "$key_list" "${fake_tls[@]}"
wait_http fake "$fake_url/_fake/stats" 60

mkdir -p "$work/nginx"
nginx_user=""
[[ "$(id -u)" == 0 ]] && nginx_user="user root;"   # as root, workers would switch to nobody and lose the temp dir
nginx_tls=""
[[ "$upstream_tls" != 1 ]] || nginx_tls="proxy_ssl_trusted_certificate $work/upstream-cert.pem; proxy_ssl_verify on; proxy_ssl_name 127.0.0.1; proxy_ssl_session_reuse on;"
sed -e "s|@USER@|$nginx_user|" -e "s|@WORK@|$work|g" -e "s|@FAKE_PORT@|$fake_port|g" -e "s|@NGINX_PORT@|$nginx_port|g" \
    -e "s|@SCHEME@|$fake_scheme|g" -e "s|@UPSTREAM_TLS@|$nginx_tls|" \
    -e "s|@KEY@|$key1|g" "$script_dir/nginx.conf.in" >"$work/nginx/nginx.conf"
start nginx "$work/nginx" nginx -p "$work/nginx" -e "$work/nginx/error.log" -c "$work/nginx/nginx.conf" -g 'daemon off;'
wait_http nginx "http://127.0.0.1:$nginx_port/healthz" 20
if [[ " ${targets[*]} " == *" bare "* ]]; then
    start bare "$work" env PORT="$bare_port" UPSTREAM="$fake_url" UPSTREAM_KEY="$key1" dotnet "$bare_dll"
    wait_http bare "http://127.0.0.1:$bare_port/healthz" 60
fi

embedded_start_ms="$(now_ms)"
start_embedded embedded "$embedded_port" "$embedded_silo_port" "$embedded_gateway_port" "$fake_url" \
    "$key_list" "$token"
wait_http embedded "http://127.0.0.1:$embedded_port/readyz" 90
embedded_startup_ms=$(($(now_ms) - embedded_start_ms))
say "embedded ready in $embedded_startup_ms ms"
variant_startup_ms=""
if [[ " ${targets[*]} " == *" variant "* ]]; then
    [[ -n "$variant_label" ]] || die "target variant needs BENCH_VARIANT_ENV or BENCH_VARIANT_DLL"
    [[ -z "$variant_dll" || -f "$variant_dll" ]] || die "BENCH_VARIANT_DLL $variant_dll not found"
    variant_start_ms="$(now_ms)"
    embedded_dll="${variant_dll:-$frontend_dll}" start_embedded variant "$variant_port" "$variant_silo_port" \
        "$variant_gateway_port" "$fake_url" "$key_list" "$token" "${variant_env[@]}"
    wait_http variant "http://127.0.0.1:$variant_port/readyz" 90
    variant_startup_ms=$(($(now_ms) - variant_start_ms))
    say "variant ($variant_label) ready in $variant_startup_ms ms"
fi

clients_startup_ms=""
if [[ " ${targets[*]} " == *" clients "* ]]; then
    # AUTH_TOKEN stays (/metrics is read with it); the load carries the named client's token
    printf '# the client the "clients" target is loaded as\nbench %s %s\n' "$client_token" "$client_limits" >"$work/clients.txt"
    clients_start_ms="$(now_ms)"
    start_embedded clients "$clients_port" "$clients_silo_port" "$clients_gateway_port" "$fake_url" \
        "$key_list" "$token" CLIENTS_FILE="$work/clients.txt"
    wait_http clients "http://127.0.0.1:$clients_port/readyz" 90
    clients_startup_ms=$(($(now_ms) - clients_start_ms))
    say "clients (embedded, client limits $client_limits) ready in $clients_startup_ms ms"
fi

cluster_up_ms=""
if [[ " ${targets[*]} " == *" cluster "* ]]; then
    cluster_start_ms="$(now_ms)"
    cluster_started=1
    # In this shell's session (CLUSTER_DETACH=0) and at the same niceness, started with it so that every thread
    # inherits it (renice after start would change only each process's main thread), like the other targets: with
    # autogroup scheduling, detached processes each got a CPU share of their own against the whole benchmark's.
    CLUSTER_DIR="$work/cluster" CLUSTER_ENV_FILE=/dev/null CLUSTER_BUILD=0 CLUSTER_FRONTENDS=1 CLUSTER_SILOS=2 \
        CLUSTER_DETACH=0 CLUSTER_REDIS_PORT="$redis_port" CLUSTER_FRONTEND_PORT="$cluster_frontend_port" \
        CLUSTER_SILO_HTTP_PORT="$cluster_silo_http_port" CLUSTER_SILO_PORT="$cluster_silo_port" \
        CLUSTER_GATEWAY_PORT="$cluster_gateway_port" GEMINI_API_KEY="$key_list" AUTH_TOKEN="$token" \
        GEMINI_BASE_URL="$fake_url" nice -n "$nice_level" "$repo_root/deploy/local/cluster.sh" up >"$work/cluster-up.log" 2>&1 ||
        { cat "$work/cluster-up.log" >&2; die "cluster.sh up failed"; }
    cluster_up_ms=$(($(now_ms) - cluster_start_ms))
    # the frontend's first request activates the pool grain in a silo: do it before measuring anything
    say "cluster up in $cluster_up_ms ms"
fi

# One request per target and scenario before anything is measured: a wrong route or header fails here, loudly.
for scenario in "${scenarios[@]}"; do
    for target in "${targets[@]}"; do
        IFS=$'\t' read -r url header value body < <(target_request "$target" "$scenario")
        code="$(curl -s -o "$work/probe.out" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
            -H "$header: $value" --data-binary "@$body" "$url")"
        [[ "$code" == 200 ]] || { cat "$work/probe.out" >&2; die "$target/$scenario answered $code at $url"; }
    done
done

declare -A rss_idle=() rss_idle_silos=()
sleep 1
for target in "${targets[@]}"; do
    total=0
    for pid in $(proxy_pids "$target"); do total=$((total + $(status_kb "$pid" VmRSS))); done
    rss_idle[$target]=$total
done
if [[ " ${targets[*]} " == *" cluster "* ]]; then
    for pid in $(silo_pids cluster); do rss_idle_silos[cluster]=$((${rss_idle_silos[cluster]:-0} + $(status_kb "$pid" VmRSS))); done
    rss_idle_silos[redis]="$(status_kb "$(<"$work/cluster/pids/redis.pid")" VmRSS)"
fi

load_before="$(cut -d ' ' -f 1-3 /proc/loadavg)"
# ---- load -------------------------------------------------------------------------------------------------------
: >"$results"
# Every process here is .NET except nginx: one pass over the scenarios first, so that the first measured scenario
# does not pay for tiered JIT compilation that the later ones do not. A .NET process under this load keeps promoting
# methods to tier 1 for ~10 s (the cluster frontend compiled ~80 methods/s after 15 s, DOTNET_JitStdOutFile), so the
# pass is long enough for code to settle: a long-running gateway is measured, not a cold one.
if ((jit_warmup > 0)); then
    say "JIT warm-up: ${jit_warmup}s per target and scenario"
    for scenario in "${scenarios[@]}"; do
        [[ "$scenario" != slow ]] || continue
        for target in "${targets[@]}"; do run_wrk "$target" "$scenario" "$connections" "$jit_warmup" >/dev/null; done
    done
fi
for ((round = 1; round <= rounds; round++)); do
    for scenario in "${scenarios[@]}"; do
        conns="$connections"
        if [[ "$scenario" == slow ]]; then
            conns="$slow_connections"
            fake_options "{\"latencyMs\":$slow_latency_ms}"
        fi
        say "round $round of $rounds, scenario $scenario: warm-up ${warmup}s per target"
        for target in "${targets[@]}"; do run_wrk "$target" "$scenario" "$conns" "$warmup" >/dev/null; done
        for target in "${targets[@]}"; do measure "$scenario" "$target" "$conns"; done
        [[ "$scenario" != slow ]] || fake_options '{"latencyMs":0}'
    done
done

# Unloaded latency: one client sends unary calls one at a time on one kept-alive connection (curl, one config
# with many URLs), rounds interleaved over the targets; what a proxy adds when nothing queues.
declare -A idle_p50=() idle_p90=()
if [[ " ${scenarios[*]} " == *" native "* ]] && ((unloaded_requests > 0)); then
    say "unloaded latency: $unloaded_rounds rounds of $unloaded_requests sequential requests per target, interleaved"
    for ((round = 0; round < unloaded_rounds; round++)); do
        for target in "${targets[@]}"; do
            IFS=$'\t' read -r url header value body < <(target_request "$target" native)
            for ((i = 0; i < unloaded_requests; i++)); do printf 'url = "%s"\noutput = "/dev/null"\n' "$url"; done >"$work/unloaded.cfg"
            curl -s -K "$work/unloaded.cfg" -w "$target %{time_starttransfer} %{http_code}\n" -X POST \
                -H 'Content-Type: application/json' -H "$header: $value" --data-binary "@$body" >>"$work/unloaded.txt"
        done
    done
    failed_calls=$(awk '$3 != 200' "$work/unloaded.txt" | wc -l)
    ((failed_calls == 0)) || die "unloaded latency: $failed_calls calls did not answer 200 ($work/unloaded.txt)"
    for target in "${targets[@]}"; do
        read -r "idle_p50[$target]" "idle_p90[$target]" < <(awk -v t="$target" '$1 == t { print $2 * 1000 }' "$work/unloaded.txt" |
            sort -n | awk '{ v[NR] = $1 } END { printf "%.3f %.3f\n", v[int((NR + 1) / 2)], v[int(NR * 0.9)] }')
    done
fi

# Streaming time to first byte: the fake waits 20 ms between events, so a proxy that buffered would show it.
declare -A ttfb=() ttlast=()
if [[ " ${scenarios[*]} " == *" stream "* ]] && ((ttfb_samples > 0)); then
    say "streaming time to first byte: $ttfb_samples samples per target, interleaved"
    fake_options '{"streamEventDelayMs":20}'
    for ((i = 0; i < ttfb_samples; i++)); do
        for target in "${targets[@]}"; do
            IFS=$'\t' read -r url header value body < <(target_request "$target" stream)
            curl -s -o /dev/null -w "$target %{time_starttransfer} %{time_total}\n" -X POST \
                -H 'Content-Type: application/json' -H "$header: $value" --data-binary "@$body" "$url" >>"$work/ttfb.txt"
        done
    done
    fake_options '{"streamEventDelayMs":0}'
    for target in "${targets[@]}"; do
        ttfb[$target]="$(awk -v t="$target" '$1 == t { print $2 * 1000 }' "$work/ttfb.txt" | sort -n |
            awk '{ v[NR] = $1 } END { printf "%.2f", v[int((NR + 1) / 2)] }')"
        ttlast[$target]="$(awk -v t="$target" '$1 == t { print $3 * 1000 }' "$work/ttfb.txt" | sort -n |
            awk '{ v[NR] = $1 } END { printf "%.2f", v[int((NR + 1) / 2)] }')"
    done
fi

declare -A rss_peak=()
for target in "${targets[@]}"; do
    total=0
    for pid in $(proxy_pids "$target"); do total=$((total + $(status_kb "$pid" VmHWM))); done
    rss_peak[$target]=$total
done
silo_after=0
silo_peak=0
if [[ " ${targets[*]} " == *" cluster "* ]]; then
    for pid in $(silo_pids cluster); do
        silo_after=$((silo_after + $(status_kb "$pid" VmRSS)))
        silo_peak=$((silo_peak + $(status_kb "$pid" VmHWM)))
    done
fi

load_after="$(cut -d ' ' -f 1-3 /proc/loadavg)"
# ---- report -----------------------------------------------------------------------------------------------------
cpu_model="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
mem_total="$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
report="$work/report.md"
{
    echo "## Results: $(date -u '+%Y-%m-%d %H:%M UTC'), commit ${BENCH_COMMIT:-$(git -C "$repo_root" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$repo_root" diff --quiet HEAD -- src 2>/dev/null || echo ' (+ local changes in src/)')}"
    echo
    # shellcheck source=/dev/null
    echo "Machine: $(nproc) cores ($cpu_model), $mem_total; $(. /etc/os-release && echo "$PRETTY_NAME"); .NET $(dotnet --version);"\
        "$(nginx -v 2>&1 | sed 's/.*: //'); $(wrk --version 2>&1 | head -n 1 | awk '{ print "wrk " $2 }'); load: wrk -t $threads, ${duration} s per run after ${warmup} s of warm-up, $( ((jit_warmup > 0)) && echo "after a JIT warm-up of ${jit_warmup} s per target and scenario" || echo "without a JIT warm-up pass (the first round measures processes still compiling)"); $rounds interleaved round(s), medians shown; answers of ${BENCH_STREAM_EVENTS:-5} events of ${BENCH_PIECE_CHARS:-56} characters; processes at nice $nice_level; load average before $load_before, after $load_after."
    echo
    echo "Command: \`$( [[ "${BENCH_QUICK:-0}" == 1 ]] && echo 'BENCH_QUICK=1 ')$( ((rounds > 1)) && echo "BENCH_ROUNDS=$rounds ")$( [[ -n "${BENCH_JIT_WARMUP:-}" ]] && echo "BENCH_JIT_WARMUP=$jit_warmup ")$( [[ -n "${BENCH_SCENARIOS:-}" ]] && echo "BENCH_SCENARIOS='${scenarios[*]}' ")$( [[ -n "${BENCH_TARGETS:-}" ]] && echo "BENCH_TARGETS='${targets[*]}' ")$( ((${#variant_env[@]})) && echo "BENCH_VARIANT_ENV='${variant_env[*]}' ")$( [[ -n "$variant_dll" ]] && echo "BENCH_VARIANT_DLL=$variant_dll ")bench/run.sh\`"
    echo
    echo "### Throughput and latency (wrk; added = target minus direct; CPU = proxy process utime+stime / requests; alloc = bytes the gateway allocated / requests)"
    echo
    echo "| scenario | target | req/s | / direct | p50 ms | p90 ms | p99 ms | added p50 ms | added p99 ms | errors | proxy CPU us/req | silos CPU us/req | alloc B/req | upstream conns / 1k req |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    awk -v tck="$clk_tck" -f "$script_dir/throughput-table.awk" "$results"
    if ((${#idle_p50[@]} > 0)); then
        echo
        echo "### Unloaded latency (curl, unary generateContent one at a time on one connection, $((unloaded_rounds * unloaded_requests)) per target; time to first byte)"
        echo
        echo "| target | p50 ms | added p50 ms | p90 ms | added p90 ms |"
        echo "|---|---:|---:|---:|---:|"
        for target in "${targets[@]}"; do
            awk -v t="$target" -v a="${idle_p50[$target]}" -v b="${idle_p90[$target]}" \
                -v da="${idle_p50[direct]:-0}" -v db="${idle_p90[direct]:-0}" 'BEGIN {
                    if (t == "direct") printf "| %s | %.2f | - | %.2f | - |\n", t, a, b
                    else printf "| %s | %.2f | %+.2f | %.2f | %+.2f |\n", t, a, a - da, b, b - db
                }'
        done
    fi
    if ((${#ttfb[@]} > 0)); then
        echo
        echo "### Streaming time to first byte (curl, median of $ttfb_samples, ${BENCH_STREAM_EVENTS:-5} events 20 ms apart)"
        echo
        echo "| target | TTFB ms | added ms | last byte ms |"
        echo "|---|---:|---:|---:|"
        for target in "${targets[@]}"; do
            printf '| %s | %s | %s | %s |\n' "$target" "${ttfb[$target]}" \
                "$(awk -v a="${ttfb[$target]}" -v b="${ttfb[direct]:-0}" -v t="$target" 'BEGIN { print t == "direct" ? "-" : sprintf("%+.2f", a - b) }')" \
                "${ttlast[$target]}"
        done
    fi
    echo
    echo "### Memory (VmRSS; nginx = master + workers; \"after load\" = largest right after a run; peak = VmHWM)"
    echo
    echo "| process | idle MB | after load MB | peak MB |"
    echo "|---|---:|---:|---:|"
    for target in "${targets[@]}"; do
        name="$target"
        case "$target" in direct) name="fake upstream (direct)" ;; bare) name="bare .NET proxy (bench/BareProxy)" ;; embedded) name="embedded frontend + silo" ;; variant) name="variant: embedded, $variant_label" ;; clients) name="embedded, limited client (CLIENTS_FILE)" ;; cluster) name="cluster frontend" ;; esac
        awk -v n="$name" -v i="${rss_idle[$target]}" -v a="${rss_after[$target]:-0}" -v p="${rss_peak[$target]}" \
            'BEGIN { printf "| %s | %.0f | %.0f | %.0f |\n", n, i / 1024, a / 1024, p / 1024 }'
    done
    if [[ -n "${rss_idle_silos[cluster]:-}" ]]; then
        awk -v i="${rss_idle_silos[cluster]}" -v a="$silo_after" -v p="$silo_peak" \
            'BEGIN { printf "| cluster silos (2, summed) | %.0f | %.0f | %.0f |\n", i / 1024, a / 1024, p / 1024 }'
        awk -v i="${rss_idle_silos[redis]}" 'BEGIN { printf "| redis | %.0f | - | - |\n", i / 1024 }'
    fi
    echo
    echo "### Start-up"
    echo
    echo "- embedded frontend, process start to \`/readyz\` 200: **$embedded_startup_ms ms**"
    [[ -z "$variant_startup_ms" ]] || echo "- variant (embedded, \`$variant_label\`): $variant_startup_ms ms"
    [[ -z "$clients_startup_ms" ]] || echo "- clients (embedded with CLIENTS_FILE, client limits \`$client_limits\`): $clients_startup_ms ms"
    [[ -z "$cluster_up_ms" ]] || echo "- cluster (\`cluster.sh up\`: redis, 2 silos, 1 frontend, sequential): $cluster_up_ms ms"
} >"$report"
cp "$report" "$out_file"
cat "$report"
say "table written to $out_file"
failed=0
