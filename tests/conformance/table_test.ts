import assert from "node:assert/strict";
import { markdown } from "./table.ts";

Deno.test("the README table groups failing cases by reason and counts every kind", () => {
  const text = markdown([
    { name: "a", pass: true, racy: false, reason: "" },
    { name: "b", pass: false, racy: false, reason: "no ofctl | here" },
    { name: "c", pass: false, racy: false, reason: "no ofctl | here" },
    { name: "d", pass: false, racy: false, reason: "differs" },
    { name: "e", pass: false, racy: true, reason: "x" },
  ]);
  assert.equal(
    text,
    [
      "5 cases: 1 passing, 3 failing, 1 racy (not compared).",
      "",
      "Passing: a.",
      "",
      "| reason it differs | failing cases |",
      "| --- | --- |",
      "| no ofctl \\| here | b, c |",
      "| differs | d |",
      "",
      "Racy in OVS itself, not compared: e.",
    ].join("\n"),
  );
});
