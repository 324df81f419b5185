// Runs calculator cases with the site's engine: cases {"model", "gpu", "settings", "what"} (see
// run_cases.js; "gpu" is an id, or a GPU typed by its memory); writes what `gpumem fit --json` or `gpumem estimate --json` gives (without the
// model), the decode ceiling, or the error.
"use strict";
const { engine, values, run } = require("./run_cases.js");

run((c) => {
  const model = engine.getModel(c.model);
  const gpu = typeof c.gpu === "string" ? engine.getGpu(c.gpu) : values(c.gpu);
  const w = engine.workload(values(c.settings));
  if (c.what === "estimate") return engine.estimateJson(engine.estimate(model, w));
  const a = engine.answer(model, gpu, w);
  const result = engine.fitJson(a);
  if (w.mode === "inference") {
    // as the page: no ceiling for a GPU known only by its memory (no bandwidth)
    result.decode_tokens_per_second = gpu.bandwidth_bytes_per_s
      ? engine.decodeTokensPerSecond(a.fit.estimate, gpu)
      : null;
  }
  return result;
});
