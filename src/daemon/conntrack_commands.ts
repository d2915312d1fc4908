/**
 * Registers the dpctl conntrack commands (lib/dpctl.c's dump-conntrack,
 * flush-conntrack, ct-stats-show, ct-set-maxconns, ct-get-maxconns,
 * ct-get-nconns, ct-enable/disable/get-tcp-seq-chk) on the bridge's
 * datapath.
 */
import {
  dpctlCtGetMaxconns,
  dpctlCtGetNconns,
  dpctlCtGetTcpSeqChk,
  dpctlCtSetMaxconns,
  dpctlCtSetTcpSeqChk,
  dpctlCtStatsShow,
  dpctlDumpConntrack,
  dpctlFlushConntrack,
  type DpifNetdev,
} from "../dpif/mod.ts";

type Register = (
  name: string,
  usage: string,
  min: number,
  max: number,
  fn: (d: DpifNetdev, a: string[]) => string,
) => void;

export function registerConntrackCommands(dp: Register): void {
  dp("dpctl/dump-conntrack", "[-m] [-s] [dp] [zone=N]", 0, 4, dpctlDumpConntrack);
  dp(
    "dpctl/flush-conntrack",
    "[dp] [zone=N] [ct-orig-tuple [ct-reply-tuple]]",
    0,
    4,
    dpctlFlushConntrack,
  );
  dp("dpctl/ct-stats-show", "[dp] [zone=N]", 0, 4, dpctlCtStatsShow);
  dp("dpctl/ct-set-maxconns", "[dp] maxconns", 1, 2, dpctlCtSetMaxconns);
  dp("dpctl/ct-get-maxconns", "[dp]", 0, 1, dpctlCtGetMaxconns);
  dp("dpctl/ct-get-nconns", "[dp]", 0, 1, dpctlCtGetNconns);
  dp("dpctl/ct-enable-tcp-seq-chk", "[dp]", 0, 1, (d, a) => dpctlCtSetTcpSeqChk(d, a, true));
  dp("dpctl/ct-disable-tcp-seq-chk", "[dp]", 0, 1, (d, a) => dpctlCtSetTcpSeqChk(d, a, false));
  dp("dpctl/ct-get-tcp-seq-chk", "[dp]", 0, 1, dpctlCtGetTcpSeqChk);
}
