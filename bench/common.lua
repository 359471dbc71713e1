-- bench/common.lua - what every wrk script here shares: per-thread status
-- counts and one RESULT line (req/s, p50, p99 in microseconds, non-2xx
-- including socket errors) for bench/run.sh to read.
local common = {}
local threads = {}

function setup(thread)
	thread:set("id", #threads)
	table.insert(threads, thread)
end

function init(args)
	statuses = {}
	math.randomseed(os.time() + math.random(1, 1e6))
end

function response(status, headers, body)
	statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
	local non2xx = summary.errors.connect + summary.errors.read
		+ summary.errors.write + summary.errors.timeout
	for _, t in ipairs(threads) do
		for k, v in pairs(t:get("statuses")) do
			if k < 200 or k > 299 then non2xx = non2xx + v end
		end
	end
	io.write(string.format("RESULT rps=%.0f p50_us=%d p99_us=%d non2xx=%d\n",
		summary.requests / (summary.duration / 1e6),
		latency:percentile(50), latency:percentile(99), non2xx))
end

-- POST /allocate of a new order of one unit on @sku.
function common.allocate(sku, tag)
	local body = string.format('{"orderid":"%s-%d-%d","sku":"%s","qty":1}',
		tag, id, math.random(1, 2e9), sku)
	return wrk.format("POST", "/allocate",
		{ ["Content-Type"] = "application/json" }, body)
end

-- GET /allocations/order-N of the bulk-loaded orders 1..@orders.
function common.get(orders)
	return wrk.format("GET", "/allocations/order-" .. math.random(1, orders))
end

return common
