-- bench/allocate.lua - wrk: POST /allocate, a unique orderid each time,
-- across SKUS skus (default 100: SKU-0..SKU-99) or all on HOT_SKU.
package.path = (os.getenv("BENCH_LUA") or "bench") .. "/?.lua;" .. package.path
local common = require("common")
local skus = tonumber(os.getenv("SKUS") or "100")
local hot = os.getenv("HOT_SKU")
local counter = 0

function request()
	counter = counter + 1
	return common.allocate(hot or ("SKU-" .. counter % skus), "w")
end
