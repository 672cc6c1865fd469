-- wrk script for the EdgePulse benchmarks: POSTs pre-generated SDK batches to /v1/events,
-- each with a batch id no other request of the run has (the collector dedups batch ids, so a
-- repeated id would measure the duplicate path instead of ingest).
--
-- usage: wrk -s bench/wrk-post-batches.lua URL -- BODIES_FILE RUN_ID
-- BODIES_FILE: one request per line, "user-agent<TAB>origin<TAB>client ip<TAB>json body", the body holding
-- the placeholder __BATCH__ where its batch id goes. Event times need no refresh: the
-- collector's clock-skew correction (ts += received_at - sent_at) makes them current.
-- Prints one line "WRK_JSON {...}" with throughput, latency percentiles and answers by status.

local threads = {}
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_id", thread_count)
  table.insert(threads, thread)
end

local requests = {}
local counter = 0
local run_id = "wrk"
statuses = {}

function init(args)
  local path = args[1]
  run_id = args[2] or run_id
  for line in io.lines(path) do
    local user_agent, origin, ip, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
    if body then
      requests[#requests + 1] = { user_agent = user_agent, origin = origin, ip = ip, body = body }
    end
  end
  if #requests == 0 then
    error("no requests in " .. tostring(path))
  end
  -- Threads start at different places in the pool so they do not send the same sessions in step.
  counter = (thread_id - 1) * 7919
end

function request()
  counter = counter + 1
  local item = requests[(counter % #requests) + 1]
  local batch_id = run_id .. "-" .. thread_id .. "-" .. counter
  local body = item.body:gsub("__BATCH__", batch_id, 1)
  local headers = {
    ["Content-Type"] = "text/plain;charset=UTF-8",
    ["User-Agent"] = item.user_agent,
    ["Origin"] = item.origin,
  }
  if item.ip ~= "" then
    headers["CF-Connecting-IP"] = item.ip
  end
  return wrk.format("POST", "/v1/events", headers, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local by_status = {}
  for _, thread in ipairs(threads) do
    local counts = thread:get("statuses")
    if counts then
      for status, count in pairs(counts) do
        by_status[status] = (by_status[status] or 0) + count
      end
    end
  end
  local parts = {}
  for status, count in pairs(by_status) do
    parts[#parts + 1] = string.format('"%d":%d', status, count)
  end
  local errors = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},"statuses":{%s}}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    table.concat(parts, ",")))
end
