/**
 * Property: any key and mask in the space datapath-flow text can express
 * survive print then parse, in both forms: the verbose form keeps key and
 * mask exactly, the terse form keeps the mask and the masked key.
 */
import assert from "node:assert/strict";
import { type FlowKey, maskKey, newKey } from "./key.ts";
import { randomFlow } from "../../tests/support/flow/testgen.ts";
import { formatOdpKey } from "./odp_key_format.ts";
import { parseOdpKey } from "./odp_key_parse.ts";
import { DEFAULT_VLAN_LIMIT, setVlanLimit } from "./extract.ts";

function reparse(text: string): [FlowKey, FlowKey] {
  const k = newKey(), m = newKey();
  parseOdpKey(text, k, m);
  return [k, m];
}

/** Runs `f` with both VLAN headers in play. */
function withTwoVlans(f: () => void): () => void {
  return () => {
    setVlanLimit(2);
    try {
      f();
    } finally {
      setVlanLimit(DEFAULT_VLAN_LIMIT);
    }
  };
}

Deno.test(
  "random keys and masks survive verbose print then parse unchanged",
  withTwoVlans(() => {
    for (let i = 0; i < 3000; i++) {
      const g = randomFlow();
      const text = formatOdpKey(g.key, g.mask, { verbose: true });
      const [k, m] = reparse(text);
      assert.deepEqual([k, m], [g.key, g.mask], text);
    }
  }),
);

Deno.test(
  "random keys and masks survive terse print then parse, as masked keys",
  withTwoVlans(() => {
    for (let i = 0; i < 3000; i++) {
      const g = randomFlow();
      const text = formatOdpKey(g.key, g.mask);
      const [k, m] = reparse(text);
      assert.deepEqual(m, g.mask, text);
      const a = newKey(), b = newKey();
      maskKey(a, g.key, g.mask);
      maskKey(b, k, m);
      assert.deepEqual(a, b, text);
      assert.equal(formatOdpKey(k, m), text);
    }
  }),
);
