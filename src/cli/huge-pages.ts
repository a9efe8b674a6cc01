/**
 * Transparent huge pages for the CLI's tensors on Linux with glibc. A command's first batch
 * writes hundreds of MB of fresh tensor memory, and each fresh 4 KiB page costs a page fault
 * (~10 us on a VM): `salient lam` on the bench's RDN-like net faults ~180,000 pages, 1.3 s of
 * system time. glibc backs its large allocations with huge pages when GLIBC_TUNABLES holds
 * glibc.malloc.hugetlb=1 (glibc >= 2.35; the kernel's THP in "madvise" mode, Debian's default),
 * which it reads only at start-up: so the CLI runs itself again with it set. Measured there, the
 * first LAM call took 4.16 s instead of 4.58 (3 runs each), later calls ~2% less. The second
 * process ends with the first, however that ends (main.ts). SALIENT_HUGE_PAGES=0 turns it off.
 */

/** The variable naming the second process's fd of the pipe that closes when the first ends. */
export const PARENT_FD_ENV = "SALIENT_PARENT_FD";

/** The glibc tunable that makes malloc advise huge pages for the memory it maps. */
export const HUGE_PAGES_TUNABLE = "glibc.malloc.hugetlb=1";

/** Arguments that only print (help, version): not worth a second process. */
const PRINT_ONLY = new Set(["--help", "-h", "help", "--version", "-V"]);

/**
 * The environment to run the command line `args` again with, or null to run it in this process:
 * on Linux, unless SALIENT_HUGE_PAGES is "0", the tunable is already set (then this is the
 * second run, or the user chose), or the command only prints. Other tunables are kept.
 */
export function hugePagesEnv(
  env: Readonly<Record<string, string | undefined>>,
  platform: string,
  args: readonly string[],
): Record<string, string | undefined> | null {
  if (platform !== "linux" || env.SALIENT_HUGE_PAGES === "0") return null;
  const tunables = env.GLIBC_TUNABLES ?? "";
  if (tunables.includes("glibc.malloc.hugetlb")) return null;
  if (args.length === 0 || args.some((a) => PRINT_ONLY.has(a))) return null;
  const value = tunables === "" ? HUGE_PAGES_TUNABLE : `${tunables}:${HUGE_PAGES_TUNABLE}`;
  return { ...env, GLIBC_TUNABLES: value };
}

/** Whether this process runs on glibc of a version that has the tunable (2.35 or later). */
export function glibcHasHugePages(version: string | undefined): boolean {
  const m = /^(\d+)\.(\d+)/.exec(version ?? "");
  if (m === null) return false;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  return major > 2 || (major === 2 && minor >= 35);
}
