// Runs llama.cpp placements with the site's planner: cases {"model", "gpus", "options"} (see
// run_cases.js); writes what `gpumem offload --json` gives, or the error.
"use strict";
const path = require("path");
const { web, input, fx, engine, values, run } = require("./run_cases.js");

const planner = require(path.join(web, "web", "offload.js"))(fx, input.data, engine);

run((c) => planner.placementJson(planner.plan(engine.getModel(c.model), c.gpus, values(c.options))));
