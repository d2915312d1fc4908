/**
 * The ovs-ofctl rule and action parser and printer (ofproto/flow_mod.ts,
 * action_parse.ts, match_format.ts, action_format.ts; ovs-ofctl's
 * parse_ofp_str and ofp_print), in OpenFlow 1.0 and 1.3. Properties: a bad
 * rule is refused with an OfctlError and a one-line message, nothing
 * else; an accepted add/mod rule prints (`MATCH actions=ACTIONS`, as
 * `ovs-ofctl parse-flow` does) to a text that parses back to the same
 * match, priority and actions and prints the same again; a line
 * ovs-ofctl printed (the corpus' parse-of10.txt) prints back
 * byte-identical in OpenFlow 1.0.
 */
import assert from "node:assert/strict";
import { isDeepStrictEqual } from "node:util";
import {
  type FlowMod,
  formatActions,
  formatMatch,
  OfctlError,
  OFP10_VERSION,
  OFP13_VERSION,
  parseFlowMod,
  parseFlowModLine,
} from "../../../src/ofproto/mod.ts";
import { mutateText, type Rng, type Target } from "../engine.ts";
import { FUZZ_FIXTURES } from "../corpus.ts";

const PORTS = new Map([["p1", 1], ["p2", 2], ["p3", 3], ["br0", 0xfffe]]);
const OF10_PRINTED = new Set(
  Deno.readTextFileSync(new URL("ofctl/parse-of10.txt", FUZZ_FIXTURES)).split("\n")
    .filter((l) => l),
);

/**
 * Refusals of a printed rule that ovs-ofctl makes of its own print too:
 * OpenFlow 1.0's mod_* actions are accepted on any match, but what they
 * print as (a set_field or an NXM load) is checked against it
 * (`actions=mod_nw_ttl:5` prints `load:0x5->NXM_NX_IP_TTL[]`); an
 * ofp_match's 16-bit tp_src carries an ICMP type over 255, printed as
 * such (`icmp,tp_src=300` prints `icmp,icmp_type=300`).
 */
const OVS_REFUSES_ITS_PRINT = [
  /OFPBAC_MATCH_INCONSISTENT/,
  /value too large for 1-byte field icmp_(type|code)$/,
];

/**
 * Parses a rule; null when it is refused. With `printed`, a refusal
 * ovs-ofctl makes of its own print is "inconsistent".
 */
function parse(
  text: string,
  version: number,
  line: boolean,
  printed = false,
): FlowMod | null | "inconsistent" {
  try {
    return line
      ? parseFlowModLine(text, { version, portNames: PORTS })
      : parseFlowMod(text, "add", false, { version, portNames: PORTS });
  } catch (e) {
    if (!(e instanceof OfctlError)) throw e;
    if (printed && OVS_REFUSES_ITS_PRINT.some((re) => re.test(e.message))) return "inconsistent";
    assert.ok(!e.message.includes("\n"), "error message spans lines");
    return null;
  }
}

const print = (fm: FlowMod) => {
  const m = formatMatch(fm.match, fm.priority);
  return `${m ? m + " " : ""}actions=${formatActions(fm.actions!)}`;
};

export function checkOfctl(text: string): void {
  for (const version of [OFP10_VERSION, OFP13_VERSION]) {
    const fm = parse(text, version, true);
    if (fm === null || fm === "inconsistent" || fm.actions === undefined) continue;
    const printed = print(fm);
    const again = parse(printed, version, false, true);
    if (again === "inconsistent") continue;
    assert.ok(again !== null, `printed rule refused: ${printed}`);
    assert.ok(
      isDeepStrictEqual(again.match, fm.match) && again.priority === fm.priority,
      `print changes the match: ${printed}`,
    );
    assert.ok(
      isDeepStrictEqual(again.actions, fm.actions),
      `print changes the actions: ${printed}`,
    );
    assert.equal(print(again), printed, `print is not a fixed point: ${text}`);
    if (version === OFP10_VERSION && OF10_PRINTED.has(text)) {
      assert.equal(printed, text, "an ovs-ofctl line does not print back");
    }
  }
}

export const ofctlTarget: Target<string> = {
  name: "ofctl",
  kind: "text",
  mutate: (rng: Rng, corpus: readonly string[]) => mutateText(rng, corpus),
  run: checkOfctl,
};
