/**
 * The datapath flow key/mask parser and printer (odp_key_parse.ts,
 * odp_key_format.ts; OVS's odp_flow_from_string and odp_flow_format).
 * Properties: bad text is refused with an OdpParseError and a one-line
 * message, nothing else; an accepted text's print (verbose and terse)
 * is accepted, and is a fixed point: it parses to a key and mask that
 * print the same again, the verbose form keeping key and mask exactly,
 * the terse one the mask and the masked key; a line OVS printed (the
 * corpus) prints back byte-identical.
 *
 * Not required: that the first print keeps every field of any accepted
 * text. Like OVS's datapath, which parses text into a flow struct and
 * prints from it, the key holds only what a flow can (attributes beyond
 * the packet type or protocol, e.g. tcp() under proto=17, or eth() under
 * a non-Ethernet packet_type, are dropped); OVS's dpctl/add-flow refuses
 * such keys outright (ODP_FIT_TOO_MUCH, "Invalid argument"). Keys in the
 * space the printer expresses keep every field: odp_key_property_test.ts.
 */
import assert from "node:assert/strict";
import {
  bytesOf,
  F,
  formatOdpKey,
  keysEqual,
  maskKey,
  newKey,
  OdpParseError,
  parseOdpKey,
} from "../../../src/flow/mod.ts";
import { randomFlow, seedTestgen } from "../../support/flow/testgen.ts";
import { mutateText, type Rng, type Target } from "../engine.ts";
import { FUZZ_FIXTURES } from "../corpus.ts";

const NAMES = new Map([["p1", 1], ["p2", 2], ["p3", 3], ["br0", 100]]);
const NUMBERS = new Map([...NAMES].map(([k, v]) => [v, k]));
const canonical = (file: string) =>
  new Set(
    Deno.readTextFileSync(new URL(`odp_key/${file}`, FUZZ_FIXTURES)).split("\n").filter((l) => l),
  );
const TERSE = canonical("terse.txt");
const VERBOSE = canonical("verbose.txt");

const k1 = newKey(), m1 = newKey(), k2 = newKey(), m2 = newKey(), a = newKey(), b = newKey();

function parse(text: string, k: Uint32Array, m: Uint32Array): boolean {
  try {
    parseOdpKey(text, k, m, NAMES);
    return true;
  } catch (e) {
    if (!(e instanceof OdpParseError)) throw e;
    assert.ok(!e.message.includes("\n"), "error message spans lines");
    return false;
  }
}

const L4 = [F.tp_src, F.tp_dst, F.tcp_flags, F.nd_target, F.arp_sha, F.arp_tha, F.igmp_group_ip4];
const matched = (m: Uint8Array, f: { off: number; len: number }) =>
  m.subarray(f.off, f.off + f.len).some((x) => x !== 0);
const exact = (m: Uint8Array, f: { off: number; len: number }) =>
  m.subarray(f.off, f.off + f.len).every((x) => x === 0xff);

/**
 * A mask as OVS's megaflows have them: dl_type exact, and a matched
 * field's prerequisites too (nw_proto under any L4 field but ARP's). The terse form leaves out an all-wildcard attribute, so only
 * such a mask can be read back from it (in OVS too: `tcp(src=1)` without
 * the `ipv4(proto=6)` it hangs on means nothing).
 */
function megaflowShaped(k: Uint32Array, m: Uint32Array): boolean {
  const kb = bytesOf(k), mb = bytesOf(m);
  if (!exact(mb, F.dl_type)) return false;
  const arp = kb[F.dl_type.off] === 0x08 && kb[F.dl_type.off + 1] === 0x06;
  return arp || !L4.some((f) => matched(mb, f)) || exact(mb, F.nw_proto);
}

/** `text` parses; its print in `form` is a fixed point. Returns that print. */
function fixedPoint(text: string, verbose: boolean): string {
  const opts = { verbose, portNames: NUMBERS };
  const once = formatOdpKey(k1, m1, opts);
  assert.ok(parse(once, k2, m2), `print refused: ${once}`);
  const twice = formatOdpKey(k2, m2, opts);
  assert.equal(twice, once, `print is not a fixed point: ${text}`);
  assert.ok(parse(twice, k1, m1));
  if (verbose) {
    assert.ok(keysEqual(k1, k2) && keysEqual(m1, m2), `verbose print changes the key: ${once}`);
  } else {
    maskKey(a, k1, m1);
    maskKey(b, k2, m2);
    assert.ok(keysEqual(m1, m2) && keysEqual(a, b), `terse print changes the flow: ${once}`);
  }
  return once;
}

export function checkOdpKey(text: string): void {
  if (!parse(text, k1, m1)) return;
  const verbose = VERBOSE.has(text);
  if (verbose || TERSE.has(text)) {
    const plain = formatOdpKey(k1, m1, { verbose });
    const named = formatOdpKey(k1, m1, { verbose, portNames: NUMBERS });
    assert.ok(text === plain || text === named, `an OVS line prints back as ${plain}`);
  }
  fixedPoint(text, true);
  if (!megaflowShaped(k1, m1)) return;
  assert.ok(parse(text, k1, m1));
  fixedPoint(text, false);
}

export const odpKeyTarget: Target<string> = {
  name: "odp_key",
  kind: "text",
  setup: () => seedTestgen(1),
  mutate(rng: Rng, corpus: readonly string[]): string {
    // One input in four is a random key and mask (what the printer can
    // express), printed and then mutated.
    if (rng.chance(4)) {
      const g = randomFlow();
      const text = formatOdpKey(g.key, g.mask, { verbose: rng.chance(2) });
      return rng.chance(2) ? text : mutateText(rng, [text]);
    }
    return mutateText(rng, corpus);
  },
  run: checkOdpKey,
};
