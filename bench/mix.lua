-- bench/mix.lua - wrk: 90% GET /allocations/order-N of the bulk orders,
-- 10% POST /allocate of a new order on one of SKUS skus.
package.path = (os.getenv("BENCH_LUA") or "bench") .. "/?.lua;" .. package.path
local common = require("common")
local orders = tonumber(os.getenv("ORDERS") or "1000000")
local skus = tonumber(os.getenv("SKUS") or "100")
local counter = 0

function request()
	counter = counter + 1
	if counter % 10 == 0 then
		return common.allocate("SKU-" .. counter % skus, "m")
	end
	return common.get(orders)
end
