-- wrk script for tools/dev/bench.sh: a credential-stuffing flood against
-- POST /api/auth/login. Arguments after "--":
--   KNOWN UNKNOWN IPS DELAY_MS WAVE
-- Every request tries a wrong password for one of KNOWN registered accounts
-- (flood-N@bench.example.com) or UNKNOWN names nobody has (ghost-N@...), from one of
-- IPS client addresses in 198.18.0.0/15 sent as X-Forwarded-For (the bench server
-- trusts it from 127.0.0.1 through mod_remoteip). Wave w (0, 1, ...) uses its own
-- names and addresses: known accounts w*KNOWN+1 .. (w+1)*KNOWN, and so on, so that
-- every wave meets the throttles as a new attack does, whatever the waves before it
-- left in the counters. Accounts and addresses are walked with different strides, so
-- that the pairs keep changing; the sequence is the same in every run (use -t1).
-- DELAY_MS > 0: each connection waits that long after a response before its next
-- request (the flood's rate is about connections * 1000 / DELAY_MS requests/s);
-- 0: as fast as the server answers.
-- At the end it prints "FLOOD_STATUS <status> <count>" per status seen, and
-- "FLOOD_STATUS other <count>" for anything but 401, 429 and 503.
local threads = {}

function setup(thread)
    thread:set("id", #threads)
    table.insert(threads, thread)
end

function init(args)
    known = tonumber(args[1]) or 100
    unknown = tonumber(args[2]) or 100
    nips = tonumber(args[3]) or 1000
    pause = tonumber(args[4]) or 0
    wave = tonumber(args[5]) or 0
    counter = (id or 0) * 104729 -- another start for every thread, if -t > 1
    n401, n429, n503, nother = 0, 0, 0, 0
end

-- "198.18.0.1" ... (k = 0 .. 131070)
local function address(k)
    k = k + 1
    return string.format("198.%d.%d.%d", 18 + math.floor(k / 65536),
        math.floor(k / 256) % 256, k % 256)
end

function request()
    counter = counter + 1
    local a = (counter * 7) % (known + unknown)
    local login
    if a < known then
        login = string.format("flood-%d@bench.example.com", wave * known + a + 1)
    else
        login = string.format("ghost-%d@bench.example.com", wave * unknown + a - known + 1)
    end
    local headers = {
        ["Content-Type"] = "application/json",
        ["X-Forwarded-For"] = address(wave * nips + (counter * 13) % nips),
    }
    return wrk.format("POST", "/api/auth/login", headers, string.format(
        '{"login":"%s","password":"Summer2024! leaked guess %d"}', login, counter))
end

function delay()
    return pause
end

function response(status, headers, body)
    if status == 401 then
        n401 = n401 + 1
    elseif status == 429 then
        n429 = n429 + 1
    elseif status == 503 then
        n503 = n503 + 1
    else
        nother = nother + 1
    end
end

function done(summary, latency, requests)
    local c = {[401] = 0, [429] = 0, [503] = 0, other = 0}
    for _, t in ipairs(threads) do
        c[401] = c[401] + (t:get("n401") or 0)
        c[429] = c[429] + (t:get("n429") or 0)
        c[503] = c[503] + (t:get("n503") or 0)
        c.other = c.other + (t:get("nother") or 0)
    end
    io.write(string.format("FLOOD_STATUS 401 %d\nFLOOD_STATUS 429 %d\nFLOOD_STATUS 503 %d\nFLOOD_STATUS other %d\n",
        c[401], c[429], c[503], c.other))
end
