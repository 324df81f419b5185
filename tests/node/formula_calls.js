// Evaluates generated formulas and runtime helpers for tests: one JSON object on stdin,
// {"calls": [[name, [arg, ...]], ...]} with an int as {"int": "digits"} and a float as a
// number; writes one line per call: "int:<digits>", "float:<IEEE bits in hex>" or "error".
"use strict";
const path = require("path");
const fs = require("fs");

const fx = require(path.resolve(__dirname, "..", "..", "gpumem", "_generated", "formulas.js"));
const input = JSON.parse(fs.readFileSync(0, "utf8"));

function show(x) {
  if (typeof x === "bigint") return "int:" + x.toString();
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  return "float:" + view.getBigUint64(0).toString(16).padStart(16, "0");
}

const lines = input.calls.map(([name, args]) => {
  const fn = name.startsWith("$") ? fx.runtime[name] : fx.formulas[name][0];
  const values = args.map((a) => (a !== null && typeof a === "object" ? BigInt(a.int) : a));
  try {
    return show(fn(...values));
  } catch (error) {
    if (error instanceof RangeError) return "error";
    throw error;
  }
});
process.stdout.write(lines.join("\n") + "\n");
