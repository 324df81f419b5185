// Reads config.json texts as the site's calculator does: one JSON object on stdin,
// {"data": calculator data, "cases": [config.json text, ...]}; writes one JSON line per case:
// the model as the calculator knows it (gpumem.calcdata.model_entry) or the error message.
"use strict";
const path = require("path");
const fs = require("fs");

const web = path.resolve(__dirname, "..", "..", "gpumem");
const input = JSON.parse(fs.readFileSync(0, "utf8"));
const fx = require(path.join(web, "_generated", "formulas.js"));
const engine = require(path.join(web, "web", "engine.js"))(fx, input.data);
const reader = require(path.join(web, "web", "config.js"))(engine, input.data);

const lines = input.cases.map((text) => {
  try {
    return engine.toJson(reader.fromConfig(reader.parseJson(text), "m", "config.json"));
  } catch (error) {
    if (!(error instanceof engine.GpumemError)) throw error;
    return engine.toJson({ error: error.message });
  }
});
process.stdout.write(lines.join("\n") + "\n");
