-- wrk script for bench/run.sh: POSTs a JSON body with one credential header, and prints one parseable line.
--   BENCH_BODY_FILE      file whose bytes are the request body
--   BENCH_AUTH_HEADER    header name carrying the credential (Authorization or x-goog-api-key)
--   BENCH_AUTH_VALUE     its value ("Bearer <token>" or a key)
-- The URL given to wrk carries the path and query.
local function required(name)
  local value = os.getenv(name)
  if value == nil or value == "" then
    error(name .. " is not set")
  end
  return value
end

local file = assert(io.open(required("BENCH_BODY_FILE"), "rb"))
wrk.body = file:read("*a")
file:close()
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers[required("BENCH_AUTH_HEADER")] = required("BENCH_AUTH_VALUE")

-- One line for the harness: counts, throughput and latency percentiles in microseconds.
done = function(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local errors = summary.errors
  io.write(string.format(
    "BENCH_RESULT requests=%d seconds=%.3f rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d "
      .. "err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d\n",
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout))
end
