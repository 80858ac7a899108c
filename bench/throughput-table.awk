# The throughput table of bench/run.sh from its results.tsv (scenario target requests rps p50 p90 p99 errors proxy_ticks
# silo_ticks alloc_bytes upstream_connections; latencies in us), one row per scenario and target: with several rounds (BENCH_ROUNDS), each
# figure is the median over the rounds, and CPU per request shows the rounds' range in brackets. Ratios and added
# latency are against the "direct" row of the same scenario and round. Needs -v tck=CLK_TCK.
BEGIN { FS = "\t" }
function median(list,    n, v, i, j, t) {
    n = split(list, v, " ")
    for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
}
function range(list,    n, v, i, lo, hi) {
    n = split(list, v, " "); lo = v[1]; hi = v[1]
    for (i = 2; i <= n; i++) { if (v[i] + 0 < lo + 0) lo = v[i]; if (v[i] + 0 > hi + 0) hi = v[i] }
    return n > 1 ? sprintf(" (%.0f-%.0f)", lo, hi) : ""
}
function add(name, key, value) { values[name, key] = (values[name, key] == "" ? "" : values[name, key] " ") value }
{
    key = $1 SUBSEP $2
    round = ++seen[key]
    if (round == 1) order[++rows] = key
    if ($2 == "direct") { drps[$1, round] = $4; dp50[$1, round] = $5; dp99[$1, round] = $7 }
    line[key, round] = $0
}
END {
    for (r = 1; r <= rows; r++) {
        key = order[r]
        for (round = 1; round <= seen[key]; round++) {
            split(line[key, round], f, "\t")
            s = f[1]; t = f[2]; req = f[3]
            add("rps", key, f[4]); add("p50", key, f[5]); add("p90", key, f[6]); add("p99", key, f[7]); add("errors", key, f[8])
            if (drps[s, round] > 0) add("ratio", key, f[4] / drps[s, round])
            add("a50", key, f[5] - dp50[s, round]); add("a99", key, f[7] - dp99[s, round])
            if (req > 0) add("cpu", key, f[9] * 1e6 / tck / req)
            if (t == "cluster" && req > 0) add("silo", key, f[10] * 1e6 / tck / req)
            if (f[11] != "" && req > 0) add("alloc", key, f[11] / req)
            if (f[12] != "" && req > 0) add("conns", key, f[12] * 1000 / req)
        }
        split(key, st, SUBSEP); s = st[1]; t = st[2]
        ratio = values["ratio", key] != "" ? sprintf("%.2f", median(values["ratio", key])) : "-"
        a50 = t == "direct" ? "-" : sprintf("%+.2f", median(values["a50", key]) / 1000)
        a99 = t == "direct" ? "-" : sprintf("%+.2f", median(values["a99", key]) / 1000)
        cpu = values["cpu", key] != "" ? sprintf("%.0f", median(values["cpu", key])) range(values["cpu", key]) : "-"
        silo = values["silo", key] != "" ? sprintf("%.0f", median(values["silo", key])) : "-"
        alloc = values["alloc", key] != "" ? sprintf("%.0f", median(values["alloc", key])) : "-"
        conns = values["conns", key] != "" ? sprintf("%.2f", median(values["conns", key])) : "-"
        if (t == "direct") cpu = cpu " (upstream)"
        printf "| %s | %s | %.0f | %s | %.2f | %.2f | %.2f | %s | %s | %d | %s | %s | %s | %s |\n",
            s, t, median(values["rps", key]), ratio, median(values["p50", key]) / 1000, median(values["p90", key]) / 1000,
            median(values["p99", key]) / 1000, a50, a99, median(values["errors", key]), cpu, silo, alloc, conns
    }
}
