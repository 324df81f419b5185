// Runs vLLM launches with the site's serving figures: cases {"model", "gpu", "options",
// "lengths"} (see run_cases.js); writes what `gpumem serve --json` gives, with the concurrency
// at each of the lengths, or the error.
"use strict";
const path = require("path");
const { web, input, fx, engine, values, run } = require("./run_cases.js");

const vllm = require(path.join(web, "web", "serve.js"))(fx, input.data, engine);

run((c) => {
  const r = vllm.serve(engine.getModel(c.model), engine.getGpu(c.gpu), values(c.options));
  const out = vllm.serveJson(r);
  out.concurrency = c.lengths.map((n) => vllm.concurrency(r, BigInt(n)));
  return out;
});
