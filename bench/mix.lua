-- bench/mix.lua - wrk: 90% GET /allocations/order-N of the bulk orders,
-- 10% POST /allocate of a new order on one of SKUS skus.
local orders = tonumber(os.getenv("ORDERS") or "1000000")
local skus = tonumber(os.getenv("SKUS") or "100")
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
	if counter % 10 == 0 then
		local body = string.format(
			'{"orderid":"m%d-%d-%d","sku":"SKU-%d","qty":1}',
			id, counter, math.random(1, 1e9), counter % skus)
		return wrk.format("POST", "/allocate",
			{ ["Content-Type"] = "application/json" }, body)
	end
	return wrk.format("GET", "/allocations/order-" .. math.random(1, orders))
end

function response(status, headers, body)
	statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
	local non2xx = 0
	for _, t in ipairs(threads) do
		for k, v in pairs(t:get("statuses")) do
			if k < 200 or k > 299 then non2xx = non2xx + v end
		end
	end
	non2xx = non2xx + summary.errors.connect
		+ summary.errors.read + summary.errors.write + summary.errors.timeout
	io.write(string.format("RESULT rps=%.0f p50_us=%d p99_us=%d non2xx=%d\n",
		summary.requests / (summary.duration / 1e6),
		latency:percentile(50), latency:percentile(99), non2xx))
end
