-- wrk: POST /api/auth/login for one account (args: email).
local threads = {}

function setup(thread)
    table.insert(threads, thread)
end

function init(args)
    body = string.format('{"login":"%s","password":"correct horse battery staple"}', args[1])
end

function request()
    return wrk.format("POST", "/api/auth/login",
                      {["Content-Type"] = "application/json"}, body)
end

function response(status, headers, body)
    if status ~= 200 then
        bad = (bad or 0) + 1
    end
end

function done(summary, latency, requests)
    local nbad = 0
    for _, t in ipairs(threads) do nbad = nbad + (t:get("bad") or 0) end
    io.write(string.format("BENCH_NON_EXPECTED %d\n", nbad))
end
