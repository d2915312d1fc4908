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
 * And for a text whose key and mask fit what their Ethertype and protocol
 * call for (odpKeyAndMaskFit: what OVS's dpctl/add-flow installs), the
 * verbose print keeps every field: each attribute of the text, read on its
 * own, reads the same as the printed attribute of that name at that
 * nesting level, and one the print leaves out held nothing but zeros
 * (an all-zero ct_tuple4() says "no tuple"). A text that does not fit may
 * lose fields (tcp() under proto=17 is not read, as in OVS, whose
 * datapath refuses such a key with "Invalid argument"), and so may a VLAN
 * tag on a packet without eth(), which OVS drops from the flow too.
 */
import assert from "node:assert/strict";
import {
  bytesOf,
  F,
  formatOdpKey,
  keysEqual,
  maskKey,
  newKey,
  odpKeyAndMaskFit,
  type OdpKeyLevel,
  OdpParseError,
  parseOdpKey,
  parseOdpKeyAttr,
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

let lastLevel: OdpKeyLevel | null = null;

function parse(text: string, k: Uint32Array, m: Uint32Array): boolean {
  try {
    lastLevel = parseOdpKey(text, k, m, NAMES);
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

type Attr = { name: string; body: string; text: string };

/** Top-level `name(body)` attributes of a key text. */
function attrs(text: string): Attr[] {
  const out: Attr[] = [];
  let depth = 0, start = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = text[i];
    if (c === "(") depth++;
    else if (c === ")") depth--;
    else if ((c === "," || c === undefined || /\s/.test(c)) && depth === 0) {
      const t = text.slice(start, i).trim();
      const open = t.indexOf("(");
      if (t) out.push({ name: t.slice(0, open), body: t.slice(open + 1, -1), text: t });
      start = i + 1;
    }
  }
  return out;
}

const ka = newKey(), ma = newKey(), kb = newKey(), mb = newKey();

/** What one attribute reads into a key and mask, on its own. */
function readAlone(a: Attr, k: Uint32Array, m: Uint32Array): void {
  // eth_type() and vlan() are read by their level, not on their own.
  if (a.name === "eth_type" || a.name === "vlan") {
    const tag = a.name === "vlan" ? `eth_type(0x8100),${a.text},encap()` : a.text;
    parseOdpKey(tag, k, m);
  } else {
    parseOdpKeyAttr(a.text, k, m);
  }
}

/** Every field of `given` survives in `printed`, level by level. */
function fieldsKept(given: Attr[], printed: Attr[], text: string): void {
  for (const a of given) {
    if (a.name === "in_port") continue; // names and numbers; the whole key covers it
    const b = printed.find((p) => p.name === a.name);
    if (a.name === "encap") {
      assert.ok(b, `encap() lost: ${text}`);
      fieldsKept(attrs(a.body), attrs(b.body), text);
      continue;
    }
    readAlone(a, ka, ma);
    if (!b) {
      assert.ok(keysEqual(ka, newKey()), `${a.text} lost: ${text}`);
      continue;
    }
    readAlone(b, kb, mb);
    // eth() makes the packet Ethernet: packet_type()'s value is not read.
    const overridden = a.name === "packet_type" && given.some((g) => g.name === "eth");
    assert.ok(
      (overridden || keysEqual(ka, kb)) && keysEqual(ma, mb),
      `${a.text} printed as ${b.text}: ${text}`,
    );
  }
}

export function checkOdpKey(text: string): void {
  if (!parse(text, k1, m1)) return;
  // A VLAN tag without eth() is dropped from the flow in OVS too
  // (dpctl/add-flow accepts `eth_type(0x8100),vlan(..),encap(..)` and
  // dumps it as the inner packet).
  const l3Vlan = lastLevel!.names.includes("vlan") && !lastLevel!.names.includes("eth");
  if (!l3Vlan && odpKeyAndMaskFit(lastLevel!, k1, m1)) {
    const printed = formatOdpKey(k1, m1, { verbose: true, portNames: NUMBERS });
    fieldsKept(attrs(text), attrs(printed), text);
    assert.ok(parse(text, k1, m1));
  }
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
