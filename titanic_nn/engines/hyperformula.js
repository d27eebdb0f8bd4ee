// titanic-nn's HyperFormula engine: recalculates sheets given as JSON and writes every cell's value as JSON.
//
//   node hyperformula.js IN.json OUT.json
//
// IN.json: {"sheets": {"name": [[cell, ...], ...], ...}}, each cell null, a number, a boolean, "=formula" or
// "'text" (the apostrophe marks text, as HyperFormula reads it). OUT.json: {"version": "3.5.0", "sheets":
// {"name": [[value, ...], ...]}}, an error as {"error": "#VALUE!"}. The cells come from titanic-nn's own bounded
// workbook reader (engines/_hyperformula.py); nothing here reads a workbook.
//
// The settings that depart from HyperFormula's defaults, each where its default departs from Excel:
// - useArrayArithmetic: true, so that arithmetic on ranges inside a formula works element by element as it does in
//   Excel's array formulas (SUMPRODUCT((A4:A9>0.5)=(B4:B9=1)), MMULT(...)*(Z>0)); by default HyperFormula takes
//   one value of a range there.
// - smartRounding: false, so that a result is the full double Excel computes; by default HyperFormula rounds the
//   results of arithmetic to 14 decimal places (0.0022238528756554164 came back as 0.0022238528693).
// The licence key "gpl-v3" is HyperFormula's own for GPL-licensed use.
"use strict";

const fs = require("fs");

const PINNED = "3.5.0";

function main() {
  const [input, output] = process.argv.slice(2);
  const { HyperFormula } = require("hyperformula");
  const found = HyperFormula.version;
  if (found !== PINNED) {
    process.stderr.write(`HyperFormula ${found} is installed, but verify is proven with ${PINNED}; run npm install hyperformula@${PINNED}\n`);
    process.exit(3);
  }
  const given = JSON.parse(fs.readFileSync(input, "utf8"));
  const engine = HyperFormula.buildFromSheets(given.sheets, { licenseKey: "gpl-v3", useArrayArithmetic: true, smartRounding: false });
  const sheets = {};
  for (const name of Object.keys(given.sheets)) {
    const values = engine.getSheetValues(engine.getSheetId(name));
    sheets[name] = values.map((row) => row.map((value) => (value !== null && typeof value === "object" ? { error: value.value } : value)));
  }
  fs.writeFileSync(output, JSON.stringify({ version: found, sheets }));
}

main();
