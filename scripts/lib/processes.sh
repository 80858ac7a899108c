# The helpers every script that runs the product's processes shares (bench/lib.sh, tools/soak/run.sh,
# deploy/local/cluster.sh): whether a port is taken, and waiting for a started process to answer over HTTP while
# noticing that it died. Each caller keeps its own way of starting and recording processes and its own messages.
# shellcheck shell=bash

# port_in_use PORT: something listens on 127.0.0.1:PORT.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# show_tail LOG [LINES]: the last lines of a process's log on stderr, framed, when it has any.
show_tail() {
    [[ -s "$1" ]] || return 0
    echo "---- last lines of $1 ----" >&2
    tail -n "${2:-25}" "$1" >&2
    echo "----" >&2
}

# poll_http URL PID TIMEOUT [INTERVAL]: waits until URL answers 2xx. Returns 0 then, 1 as soon as PID has exited,
# 2 after TIMEOUT seconds. A PID of 0 is not watched.
poll_http() {
    local url="$1" pid="$2" deadline=$((SECONDS + $3)) interval="${4:-0.2}"
    while ((SECONDS < deadline)); do
        curl -fsS --max-time 2 -o /dev/null "$url" 2>/dev/null && return 0
        [[ "$pid" == 0 ]] || kill -0 "$pid" 2>/dev/null || return 1
        sleep "$interval"
    done
    return 2
}
