-- bench/allocate.lua - wrk script: POST /allocate with a unique orderid per
-- request, across SKUS skus (env SKUS, default 100), counting statuses.
local skus = tonumber(os.getenv("SKUS") or "100")
local counter = 0
local threads = {}

function setup(thread)
	thread:set("id", #threads)
	table.insert(threads, thread)
end

function init(args)
	statuses = {}
end

function request()
	counter = counter + 1
	local body = string.format(
		'{"orderid":"w%d-%d-%d","sku":"SKU-%d","qty":1}',
		id, counter, math.random(1, 1e9), counter % skus)
	return wrk.format("POST", "/allocate",
		{ ["Content-Type"] = "application/json" }, body)
end

function response(status, headers, body)
	statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
	local agg = {}
	for _, t in ipairs(threads) do
		local s = t:get("statuses")
		for k, v in pairs(s) do agg[k] = (agg[k] or 0) + v end
	end
	local non2xx = 0
	for k, v in pairs(agg) do
		if k < 200 or k > 299 then non2xx = non2xx + v end
	end
	io.write(string.format("RESULT rps=%.0f p50_us=%d p99_us=%d non2xx=%d\n",
		summary.requests / (summary.duration / 1e6),
		latency:percentile(50), latency:percentile(99), non2xx))
end
