/**
 * The `key=value, key:value, key(value)` tokenizer shared by matches and
 * actions, with ovs-ofctl's rules (ofputil_parse_key_value): keys end at
 * `:`, `=`, `(`, a comma or white space; a value after `:`/`=` runs to the
 * next comma or space outside parentheses; a value after `(` runs to the
 * matching `)`.
 */

export interface KeyValue {
  key: string;
  value: string;
  /** True when the value was given in parentheses: `resubmit(1,2)`. */
  paren: boolean;
}

function valueEnd(s: string, start: number, delims: string): number {
  let n = start;
  while (n < s.length && !delims.includes(s[n])) {
    if (s[n] === "(") {
      let level = 0;
      do {
        if (s[n] === "(") level++;
        else if (s[n] === ")") level--;
        n++;
      } while (level > 0 && n < s.length);
    } else {
      n++;
    }
  }
  return n;
}

export function parseKeyValues(s: string): KeyValue[] {
  const out: KeyValue[] = [];
  let i = 0;
  const skip = ", \t\r\n";
  while (true) {
    while (i < s.length && skip.includes(s[i])) i++;
    if (i >= s.length) return out;
    let k = i;
    while (k < s.length && !":=(, \t\r\n".includes(s[k])) k++;
    const key = s.slice(i, k);
    const delim = s[k];
    if (delim === ":" || delim === "=") {
      const end = valueEnd(s, k + 1, ", \t\r\n");
      out.push({ key, value: s.slice(k + 1, end), paren: false });
      i = end;
    } else if (delim === "(") {
      let end = valueEnd(s, k + 1, ")");
      if (s.startsWith(")->", end)) {
        // `check_pkt_larger(LEN)->DST`: the value is `LEN)->DST`.
        end = valueEnd(s, end, ", \t\r\n");
        out.push({ key, value: s.slice(k + 1, end), paren: true });
        i = end;
        continue;
      }
      out.push({ key, value: s.slice(k + 1, end), paren: true });
      i = end + 1;
    } else {
      out.push({ key, value: "", paren: false });
      i = k;
    }
  }
}
