/**
 * The libc functions the Linux netdev (and memory.ts's huge-page advice)
 * needs, bound once per thread with Deno.dlopen (needs --allow-ffi).
 * Calls are synchronous: a blocking one (`poll`) blocks the calling
 * thread, which is why only the PMD worker makes it. `errno()` reads the
 * calling thread's errno right after a failed call.
 *
 * Thread-safety: each thread binds its own copy on first use; fds and
 * mappings are process-wide, so one thread may open what another uses.
 */

const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" },
  /** ioctl(2) whose argument is a value, not a pointer (TUNSETOFFLOAD). */
  ioctlValue: { name: "ioctl", parameters: ["i32", "u64", "u64"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  open: { parameters: ["buffer", "i32", "i32"], result: "i32" },
  /**
   * readv(2) and writev(2) of one frame through a prepared iovec: i32
   * arguments and result, so a call allocates no BigInt.
   */
  readv: { parameters: ["i32", "pointer", "i32"], result: "i32" },
  writev: { parameters: ["i32", "pointer", "i32"], result: "i32" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  recvmmsg: { parameters: ["i32", "buffer", "u32", "i32", "pointer"], result: "i32" },
  sendmmsg: { parameters: ["i32", "buffer", "u32", "i32"], result: "i32" },
  sendto: {
    parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"],
    result: "isize",
  },
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32" },
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  if_nametoindex: { parameters: ["buffer"], result: "u32" },
  mmap: { parameters: ["pointer", "usize", "i32", "i32", "i32", "i64"], result: "pointer" },
  munmap: { parameters: ["pointer", "usize"], result: "i32" },
  madvise: { parameters: ["pointer", "usize", "i32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
  strerror: { parameters: ["i32"], result: "pointer" },
} as const;

export type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

let lib: Deno.DynamicLibrary<typeof SYMBOLS> | undefined;

/** This thread's libc bindings; throws a one-line error without FFI. */
export function libc(): Libc {
  if (!lib) {
    try {
      lib = Deno.dlopen("libc.so.6", SYMBOLS);
    } catch (e) {
      throw new Error(
        `cannot load libc for system ports (run with --allow-ffi): ${
          e instanceof Error ? e.message : e
        }`,
      );
    }
  }
  return lib.symbols;
}

/** This thread's errno word (its address never changes for the thread), viewed once. */
let errnoView: Deno.UnsafePointerView | undefined;

/**
 * The calling thread's errno (valid right after a failed libc call).
 * Allocates nothing after the first call: an EAGAIN from a receive is on
 * the PMD's path.
 */
export function errno(): number {
  if (!errnoView) {
    const p = libc().__errno_location();
    if (!p) return 0;
    errnoView = new Deno.UnsafePointerView(p);
  }
  return errnoView.getInt32();
}

/** strerror(errno) as a string. */
export function strerror(err: number): string {
  const p = libc().strerror(err);
  return p ? Deno.UnsafePointerView.getCString(p) : `errno ${err}`;
}

/** NUL-terminated bytes of `s`, for calls that take a C string. */
export function cString(s: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(s + "\0");
}

/** The address of a buffer, as FFI pointers are passed inside structs. */
export function addressOf(b: ArrayBufferView<ArrayBuffer>): bigint {
  return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(b)));
}

/** An error naming what failed and why, from the current errno. */
export class LinuxError extends Error {
  override name = "LinuxError";
  constructor(what: string, readonly errno: number) {
    super(`${what}: ${strerror(errno)}`);
  }
}

/** Throws a LinuxError for `what` when `rc` is negative. */
export function check(rc: number | bigint, what: string): number {
  if (rc < 0) throw new LinuxError(what, errno());
  return Number(rc);
}
