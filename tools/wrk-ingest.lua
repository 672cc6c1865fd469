-- wrk script for the local ingest rate: every request posts one batch of 20 events
-- (16 page views, 3 cart events, 1 purchase) with a unique batch id and one of 1000
-- visitors per thread, so batches spread over every shard like real traffic.
--   WINDOW_SECONDS=10 RATE_LIMIT_SITE_PER_SECOND=0 RATE_LIMIT_CLIENT_PER_SECOND=0 npm run dev
--   wrk -t2 -c16 -d30s -s tools/wrk-ingest.lua http://127.0.0.1:8787
local threads = {}
local made = 0

function setup(thread)
  made = made + 1
  thread:set("tid", made)
  table.insert(threads, thread)
end

function init(args)
  counter = 0
  refused = 0
  run = string.format("%x", os.time())
end

function request()
  counter = counter + 1
  local now = os.time() * 1000
  local events = {}
  for i = 1, 16 do
    events[#events + 1] = string.format('{"type":"page_view","id":"p%d","ts":%d,"url":"https://shop.example/p/%d","referrer":"https://google.com/"}', i, now, i)
  end
  events[#events + 1] = string.format('{"type":"cart","id":"c1","ts":%d,"action":"add","product_id":"sku-%d","price":12.5,"quantity":2,"currency":"EUR"}', now, counter % 50)
  events[#events + 1] = string.format('{"type":"cart","id":"c2","ts":%d,"action":"remove","product_id":"sku-%d"}', now, counter % 50)
  events[#events + 1] = string.format('{"type":"cart","id":"c3","ts":%d,"action":"checkout","value":25,"currency":"EUR"}', now)
  events[#events + 1] = string.format('{"type":"purchase","id":"o1","ts":%d,"order_id":"o-%s-%d-%d","value":25,"currency":"EUR"}', now, run, tid, counter)
  local body = string.format('{"v":1,"site":"demo","batch":"b-%s-%d-%d","sent_at":%d,"visitor":"v-%d-%d","events":[%s]}',
    run, tid, counter, now, tid, counter % 1000, table.concat(events, ","))
  return wrk.format("POST", "/v1/events", { ["Content-Type"] = "text/plain" }, body)
end

function response(status, headers, body)
  if status ~= 202 then refused = refused + 1 end
end

function done(summary, latency, requests)
  local refusedTotal = 0
  for _, thread in ipairs(threads) do refusedTotal = refusedTotal + thread:get("refused") end
  local seconds = summary.duration / 1e6
  local accepted = summary.requests - refusedTotal
  io.write(string.format("batches/s %.0f  events/s %.0f  non-202 %d  p50 %.1f ms  p99 %.1f ms\n",
    accepted / seconds, accepted * 20 / seconds, refusedTotal, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
