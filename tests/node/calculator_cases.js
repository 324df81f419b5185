// Runs calculator cases with the site's engine: one JSON object on stdin,
// {"data": calculator data, "cases": [{"model", "gpu", "settings", "what"}, ...]} with a Python
// int as {"int": "digits"}; writes one JSON line per case: what `gpumem fit --json` or
// `gpumem estimate --json` gives (without the model), the decode ceiling, or the error.
"use strict";
const path = require("path");
const fs = require("fs");

const root = path.resolve(__dirname, "..", "..");
const fx = require(path.join(root, "gpumem", "_generated", "formulas.js"));
const makeEngine = require(path.join(root, "gpumem", "web", "engine.js"));

const input = JSON.parse(fs.readFileSync(0, "utf8"));
const engine = makeEngine(fx, input.data);
const out = [];
const started = process.hrtime.bigint();
for (const c of input.cases) {
  const settings = {};
  for (const [k, v] of Object.entries(c.settings)) {
    settings[k] = v !== null && typeof v === "object" ? BigInt(v.int) : v; // {"int": "7"}
  }
  let result;
  try {
    const model = engine.getModel(c.model);
    const gpu = engine.getGpu(c.gpu);
    const w = engine.workload(settings);
    if (c.what === "estimate") {
      result = engine.estimateJson(engine.estimate(model, w));
    } else {
      const a = engine.answer(model, gpu, w);
      result = engine.fitJson(a);
      if (w.mode === "inference") {
        result.decode_tokens_per_second = engine.decodeTokensPerSecond(a.fit.estimate, gpu);
      }
    }
  } catch (error) {
    if (!(error instanceof engine.GpumemError)) throw error;
    result = { error: error.message, hint: error.hint ? error.hint.text : null };
  }
  out.push(engine.toJson(result));
}
const ms = Number(process.hrtime.bigint() - started) / 1e6;
process.stdout.write(out.join("\n") + "\n");
process.stderr.write(JSON.stringify({ cases: input.cases.length, ms: ms }) + "\n");
