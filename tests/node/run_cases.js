// What the case runners share: reads one JSON object from stdin ({"data": calculator data,
// "cases": [...]}) and loads the site's formulas and engine; run(answer) writes one JSON line
// per case (the answer, or the error a GpumemError gives), then the time taken on stderr.
"use strict";
const path = require("path");
const fs = require("fs");

const web = path.resolve(__dirname, "..", "..", "gpumem");
const input = JSON.parse(fs.readFileSync(0, "utf8"));
const fx = require(path.join(web, "_generated", "formulas.js"));
const engine = require(path.join(web, "web", "engine.js"))(fx, input.data);

/** A case's options: a Python int arrives as {"int": "digits"} (JSON cannot tell 7 from 7.0). */
function values(options) {
  const out = {};
  for (const [k, v] of Object.entries(options)) {
    // an int tagged {"int": digits}, or a setting made of settings (--speculative-config)
    const tagged = v !== null && typeof v === "object";
    out[k] = tagged ? (Object.hasOwn(v, "int") ? BigInt(v.int) : values(v)) : v;
  }
  return out;
}

function run(answer) {
  const out = [];
  const started = process.hrtime.bigint();
  for (const c of input.cases) {
    let result;
    try {
      result = answer(c);
    } catch (error) {
      if (!(error instanceof engine.GpumemError)) throw error;
      result = { error: error.message, hint: error.hint ? error.hint.text : null };
    }
    out.push(engine.toJson(result));
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  process.stdout.write(out.join("\n") + "\n");
  process.stderr.write(JSON.stringify({ cases: input.cases.length, ms: ms }) + "\n");
}

module.exports = { web: web, input: input, fx: fx, engine: engine, values: values, run: run };
