// The js_data runner of windlass: node runner.js CONTEXT.json RESULT.json
// The phase's code runs inside an async function with `data`, `state`, `input`; `result` (or
// what the code returns) is written to RESULT.json as {"kind": "value", "value"}, or {"error"}.
const __windlass_fs = require("fs");
const [__windlass_context_path, __windlass_result_path] = process.argv.slice(2);
const __windlass_context = JSON.parse(__windlass_fs.readFileSync(__windlass_context_path, "utf8"));
const data = __windlass_context.data || {};
const state = __windlass_context.state || {};
const input = __windlass_context.input || {};
let result;
const __windlass_write = (outcome) => __windlass_fs.writeFileSync(__windlass_result_path, JSON.stringify(outcome));
(async () => {
// ---- the phase's code ----
