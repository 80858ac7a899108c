# The throughput table of bench/run.sh from its results.tsv (scenario target requests rps p50 p90 p99 errors proxy_ticks
# silo_ticks alloc_bytes; latencies in us): ratios and added latency against the "direct" row of each scenario, CPU
# and allocation per request. Needs -v tck=CLK_TCK.
BEGIN { FS = "\t" }
{ rows[NR] = $0; if ($2 == "direct") { drps[$1] = $4; dp50[$1] = $5; dp99[$1] = $7 } }
END {
    for (i = 1; i <= NR; i++) {
        split(rows[i], f, "\t")
        s = f[1]; t = f[2]; req = f[3]
        ratio = drps[s] > 0 ? sprintf("%.2f", f[4] / drps[s]) : "-"
        a50 = t == "direct" ? "-" : sprintf("%+.2f", (f[5] - dp50[s]) / 1000)
        a99 = t == "direct" ? "-" : sprintf("%+.2f", (f[7] - dp99[s]) / 1000)
        cpu = req > 0 ? sprintf("%.0f", f[9] * 1e6 / tck / req) : "-"
        silo = (t == "cluster" && req > 0) ? sprintf("%.0f", f[10] * 1e6 / tck / req) : "-"
        alloc = (f[11] != "" && req > 0) ? sprintf("%.0f", f[11] / req) : "-"
        if (t == "direct") cpu = cpu " (upstream)"
        printf "| %s | %s | %.0f | %s | %.2f | %.2f | %.2f | %s | %s | %d | %s | %s | %s |\n",
            s, t, f[4], ratio, f[5] / 1000, f[6] / 1000, f[7] / 1000, a50, a99, f[8], cpu, silo, alloc
    }
}
