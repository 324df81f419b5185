// Runs llama.cpp placements with the site's planner: cases {"model", "gpus", "options"} (see
// run_cases.js); writes what `gpumem offload --json` gives, or the error.
"use strict";
const path = require("path");
const { web, input, fx, engine, values, run } = require("./run_cases.js");

const planner = require(path.join(web, "web", "offload.js"))(fx, input.data, engine);

// a GPU is an id, or one typed by its memory (--vram) as the page builds it
const gpus = (c) => c.gpus.map((g) => (typeof g === "string" ? g : values(g)));

run((c) => planner.placementJson(planner.plan(engine.getModel(c.model), gpus(c), values(c.options))));
