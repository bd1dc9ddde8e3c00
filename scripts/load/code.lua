-- wrk script: POST /api/v1/code with a rotating set of note bodies.
-- Env: MEDLEDGER_TOKEN (bearer token), BODIES (file, one JSON body per line).
local bodies = {}
local token = os.getenv("MEDLEDGER_TOKEN") or ""
local path = os.getenv("BODIES") or "bodies.ndjson"
for line in io.lines(path) do
  if #line > 0 then bodies[#bodies + 1] = line end
end
local counter = 0
local headers = {
  ["Content-Type"] = "application/json",
  ["Authorization"] = "Bearer " .. token,
}

request = function()
  counter = counter % #bodies + 1
  return wrk.format("POST", "/api/v1/code", headers, bodies[counter])
end

done = function(summary, latency, _)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    '{"requests":%d,"seconds":%.3f,"requests_per_second":%.1f,"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,"socket_errors":%d,"non_2xx":%d,"bodies":%d}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1e3, latency:percentile(90) / 1e3, latency:percentile(99) / 1e3,
    latency.max / 1e3, errors, summary.errors.status, #bodies))
end
