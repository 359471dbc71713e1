-- bench/allocate.lua - wrk script: POST /allocate with a unique orderid per
-- request, across SKUS skus (env SKUS, default 100) or on HOT_SKU only,
-- counting statuses.
local skus = tonumber(os.getenv("SKUS") or "100")
local hot = os.getenv("HOT_SKU") -- every request on this one sku
local counter = 0
local threads = {}

function setup(thread)
	thread:set("id", #threads)
	table.insert(threads, thread)
end

function init(args)
	statuses = {}
	math.randomseed(os.time() + math.random(1, 1e6))
end

function request()
	counter = counter + 1
	local sku = hot or string.format("SKU-%d", counter % skus)
	local body = string.format(
		'{"orderid":"w%d-%d-%d","sku":"%s","qty":1}',
		id, counter, math.random(1, 1e9), sku)
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
	non2xx = non2xx + summary.errors.connect
		+ summary.errors.read + summary.errors.write + summary.errors.timeout
	io.write(string.format("RESULT rps=%.0f p50_us=%d p99_us=%d non2xx=%d\n",
		summary.requests / (summary.duration / 1e6),
		latency:percentile(50), latency:percentile(99), non2xx))
end
