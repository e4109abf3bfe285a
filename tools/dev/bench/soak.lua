-- wrk script for the soak of tools/dev/bench.sh (make soak): a mix of the guard, sign-in
-- and refresh for one account, as long as wrk runs. Arguments after "--":
--   EMAIL COOKIE ACCESS LOGIN_EVERY REFRESH_EVERY
-- Every thread counts its requests: request k is
--   a sign-in (POST /api/auth/login) when k % LOGIN_EVERY == 1 (so the first one),
--   a refresh (POST /api/auth/refresh) when k % REFRESH_EVERY == 0 and no refresh of
--     this thread is waiting for its answer (a refresh token works once: two in flight
--     with the same token would be a reuse, which ends the chain and its session),
--   else the guarded page GET /private/index.html, with the session cookie COOKIE and
--     with "Authorization: Bearer" in turn.
-- The bearer is ACCESS until a sign-in or a refresh of the thread brings a newer access
-- token; the refresh token is the one the last sign-in or refresh brought.
-- At the end it prints "SOAK_KIND <kind> <count>" for the requests sent, and
-- "SOAK_STATUS <status> <count>" per status received (200 expected of every one).
local threads = {}

function setup(thread)
    table.insert(threads, thread)
end

function init(args)
    email, cookie, access = args[1], args[2], args[3]
    login_every = tonumber(args[4]) or 2000
    refresh_every = tonumber(args[5]) or 50
    k = 0
    refresh, refreshing = nil, false
    kinds = {login = 0, refresh = 0, cookie = 0, bearer = 0}
    statuses = {}
    json = {["Content-Type"] = "application/json"}
    login_body = string.format('{"login":"%s","password":"correct horse battery staple"}', email)
end

function request()
    k = k + 1
    if k % login_every == 1 then
        kinds.login = kinds.login + 1
        return wrk.format("POST", "/api/auth/login", json, login_body)
    end
    if k % refresh_every == 0 and refresh and not refreshing then
        refreshing = true
        kinds.refresh = kinds.refresh + 1
        return wrk.format("POST", "/api/auth/refresh", json,
            string.format('{"refresh_token":"%s"}', refresh))
    end
    if k % 2 == 0 then
        kinds.cookie = kinds.cookie + 1
        return wrk.format("GET", "/private/index.html", {["Cookie"] = cookie})
    end
    kinds.bearer = kinds.bearer + 1
    return wrk.format("GET", "/private/index.html", {["Authorization"] = "Bearer " .. access})
end

function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
    local rt = body and body:match('"refresh_token":"([^"]+)"')
    if rt then
        -- a sign-in or a refresh: the newest tokens of this thread
        refresh = rt
        access = body:match('"access_token":"([^"]+)"') or access
        refreshing = false
    elseif status ~= 200 and refreshing then
        -- perhaps the refresh's answer: start a new chain at the next sign-in
        refresh, refreshing = nil, false
    end
end

function done(summary, latency, requests)
    local kind, status = {}, {}
    for _, t in ipairs(threads) do
        for name, n in pairs(t:get("kinds")) do
            kind[name] = (kind[name] or 0) + n
        end
        for s, n in pairs(t:get("statuses")) do
            status[s] = (status[s] or 0) + n
        end
    end
    for name, n in pairs(kind) do
        io.write(string.format("SOAK_KIND %s %d\n", name, n))
    end
    for s, n in pairs(status) do
        io.write(string.format("SOAK_STATUS %d %d\n", s, n))
    end
end
