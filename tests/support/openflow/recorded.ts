/**
 * The OpenFlow conversations recorded between Debian's ovs-ofctl and OVS
 * 3.1 (fixtures/openflow/NAME.txt, from scripts/capture-openflow.sh):
 * each connection's messages, client (`C`) and switch (`S`) side.
 */
const FIXTURES = new URL("../../../fixtures/openflow/", import.meta.url);

export function fromHex(hex: string): Uint8Array {
  return new Uint8Array(hex.match(/../g)!.map((h) => parseInt(h, 16)));
}

export interface Recorded {
  client: Uint8Array[];
  server: Uint8Array[];
}

/** The connections of step `name`, in the order ovs-ofctl opened them. */
export function recorded(name: string): Recorded[] {
  const text = Deno.readTextFileSync(new URL(`${name}.txt`, FIXTURES));
  return text.split("# connection\n").slice(1).map((conn) => {
    const lines = conn.split("\n");
    const side = (tag: string) =>
      lines.filter((l) => l.startsWith(tag)).map((l) => fromHex(l.slice(2)));
    return { client: side("C "), server: side("S ") };
  });
}

/** Every message ovs-ofctl sent in step `name`, over all its connections. */
export function clientMessages(name: string): Uint8Array[] {
  return recorded(name).flatMap((c) => c.client);
}

/** Every message OVS sent in step `name`. */
export function serverMessages(name: string): Uint8Array[] {
  return recorded(name).flatMap((c) => c.server);
}

/** The first message of type `type` (and version) ovs-ofctl sent in step `name`. */
export function clientMessage(name: string, type: number, version?: number): Uint8Array {
  for (const c of recorded(name)) {
    for (const m of c.client) {
      if (m[1] === type && (version === undefined || m[0] === version)) return m;
    }
  }
  throw new Error(`${name}: no client message of type ${type}`);
}

/** The first message of type `type` OVS sent in step `name`. */
export function serverMessage(name: string, type: number): Uint8Array {
  for (const c of recorded(name)) for (const m of c.server) if (m[1] === type) return m;
  throw new Error(`${name}: no switch message of type ${type}`);
}

export const FIXTURE_DIR = FIXTURES;
