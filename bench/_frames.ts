/**
 * The benches' traffic: `n` 64-byte UDP frames to 50:54:00:00:00:07,
 * 10.1.0.2 port 80; frame i comes from 50:54:00:01:ii:ii, 10.0.ii.ii,
 * source port i, so each is a flow of its own.
 */
export function udpFrames(n: number): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => {
    const f = new Uint8Array(64);
    f.set([0x50, 0x54, 0, 0, 0, 7, 0x50, 0x54, 0, 1, (i >> 8) & 255, i & 255], 0);
    f.set(
      [0x08, 0x00, 0x45, 0, 0, 50, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, i >> 8, i & 255, 10, 1, 0, 2],
      12,
    );
    f.set([(i >> 8) & 255, i & 255, 0, 80, 0, 30, 0, 0], 34);
    return f;
  });
}
