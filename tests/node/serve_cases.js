// Runs vLLM launches with the site's serving figures: cases {"model", "gpu", "options",
// "lengths"} (see run_cases.js; "gpu" is an id, or a GPU typed by its memory); writes what `gpumem serve --json` gives, with the concurrency
// at each of the lengths, or the error.
"use strict";
const path = require("path");
const { web, input, fx, engine, values, run } = require("./run_cases.js");

const vllm = require(path.join(web, "web", "serve.js"))(fx, input.data, engine);

run((c) => {
  const gpu = typeof c.gpu === "string" ? engine.getGpu(c.gpu) : values(c.gpu);
  const r = vllm.serve(engine.getModel(c.model), gpu, values(c.options));
  const out = vllm.serveJson(r);
  out.concurrency = c.lengths.map((n) => vllm.concurrency(r, BigInt(n)));
  return out;
});
