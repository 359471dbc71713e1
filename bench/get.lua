-- bench/get.lua - wrk: GET /allocations/order-N, N uniform in 1..ORDERS.
package.path = (os.getenv("BENCH_LUA") or "bench") .. "/?.lua;" .. package.path
local common = require("common")
local orders = tonumber(os.getenv("ORDERS") or "1000000")

function request()
	return common.get(orders)
end
