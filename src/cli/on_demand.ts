/**
 * Imports a module when a command first needs it. Deno loads every
 * module named by a literal `import("...")` when the program starts, even
 * one that never runs, so a literal would make `udpif upcall/show` load the
 * whole switch (and commander) before it sends its one request. Naming the
 * module through a URL keeps it out of that start-up graph; the caller
 * states its type with `typeof import(...)`, which costs nothing at run
 * time. `make build` embeds all of src/, so the compiled program finds
 * these modules too.
 *
 * `path` is relative to this folder (src/cli/).
 */
export function importOnDemand<Module>(path: string): Promise<Module> {
  return import(new URL(path, import.meta.url).href);
}
