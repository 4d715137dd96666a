-- GET /blob/{id}: 90 % of requests to the 100 hot ids 0..99 (fewer than the 128 channels virtualfile
-- caches), 10 % uniform over all blobs.
-- wrk -t2 -c64 -d10s --latency -s get-hot.lua http://127.0.0.1:PORT -- BLOB_COUNT
-- Each wrk thread draws from its own fixed seed, so every server version gets the same id sequence.

local HOT = 100

local threads = 0
function setup(thread)
  thread:set("thread_number", threads)
  threads = threads + 1
end

local count
function init(args)
  count = tonumber(args[1]) or 20000
  math.randomseed(2000 + thread_number)
end

function request()
  local id
  if math.random() < 0.9 then
    id = math.random(0, HOT - 1)
  else
    id = math.random(0, count - 1)
  end
  return wrk.format("GET", "/blob/" .. id)
end
