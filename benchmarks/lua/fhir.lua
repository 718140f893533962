-- One FHIR interaction per request, for benchmarks/load.py (wrk 4.1, LuaJIT).
--
--   LOAD_AUTH="Bearer …" wrk -t2 -c32 -d10s --latency -s benchmarks/lua/fhir.lua http://127.0.0.1:PORT \
--       -- OP THREADS LINES [BODY]
--
-- OP      read | search: LINES holds one request path per line (/fhir/Patient/p1,
--                        /fhir/Patient?identifier=sys%7Cvalue); each request takes the next one
--         create:        POST /fhir/Patient with the template in BODY (@N@ -> a number unique to
--                        the request); LINES is not read (pass "-")
--         update:        PUT /fhir/Patient/{id}, ids from LINES, BODY a template with "id":"@ID@"
--                        and @N@ (so every PUT changes the content and makes a new version)
-- THREADS the -t value: each thread takes its own slice of LINES, so two threads never update
--         the same Patient, and a thread comes back to an id only after the whole slice.
-- $LOAD_AUTH, when set, is sent as the Authorization header.
--
-- done() prints one line "LOAD_RESULT {json}": requests, duration, socket errors, statuses
-- counted by response(), and latency percentiles in microseconds (wrk's --latency table has
-- no p95).

local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

local op, lines, body, first, count, n, step

local function read_lines(path)
  local out = {}
  for line in io.lines(path) do
    if line ~= "" then out[#out + 1] = line end
  end
  return out
end

local function read_file(path)
  local f = assert(io.open(path, "rb"))
  local text = f:read("*a")
  f:close()
  return text
end

function init(args)
  -- args[0] is the URL; ours follow it
  op = args[1]
  local nthreads = tonumber(args[2])
  if op ~= "create" then
    local all = read_lines(args[3])
    first = math.floor(#all * tid / nthreads) + 1
    local stop = math.floor(#all * (tid + 1) / nthreads)
    lines = {}
    for i = first, stop do lines[#lines + 1] = all[i] end
    assert(#lines > 0, "no lines for thread " .. tid)
  end
  if args[4] and args[4] ~= "-" then body = read_file(args[4]) end
  count, n, step = 0, tid, nthreads
  statuses = {}
  wrk.headers["Accept"] = "application/fhir+json"
  local auth = os.getenv("LOAD_AUTH")
  if auth and auth ~= "" then wrk.headers["Authorization"] = auth end
  if body then
    wrk.headers["Content-Type"] = "application/fhir+json"
    wrk.headers["Prefer"] = "return=minimal"
  end
end

function request()
  n = n + step -- unique across threads
  if op == "create" then
    return wrk.format("POST", "/fhir/Patient", nil, (body:gsub("@N@", tostring(n))))
  end
  count = count + 1
  local line = lines[(count - 1) % #lines + 1]
  if op == "update" then
    local text = body:gsub("@ID@", line):gsub("@N@", tostring(n))
    return wrk.format("PUT", "/fhir/Patient/" .. line, nil, text)
  end
  return wrk.format("GET", line)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local counts = {}
  for _, thread in ipairs(threads) do
    for code, k in pairs(thread:get("statuses") or {}) do
      counts[code] = (counts[code] or 0) + k
    end
  end
  local parts = {}
  for code, k in pairs(counts) do parts[#parts + 1] = string.format('"%d":%d', code, k) end
  local e = summary.errors
  io.write(string.format(
    'LOAD_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p75":%d,"p90":%d,"p95":%d,"p99":%d,"max":%d,"mean":%.1f},"statuses":{%s}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(75), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency.max, latency.mean, table.concat(parts, ",")))
end
