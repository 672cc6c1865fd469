/**
 * CPU time of processes, from /proc (Linux). On a shared two-core machine requests per second
 * move with whatever else runs; the server's CPU time per request moves far less, so the
 * benchmarks report both. Also the machine-wide busy share during a step, to say how much
 * of the machine the step actually had.
 */
import { readdirSync, readFileSync } from "node:fs";

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ; 100 on every Linux we target). */
const TICKS_PER_SECOND = 100;

interface ProcessStat {
  pid: number;
  parent: number;
  command: string;
  /** utime + stime, ms. */
  cpuMs: number;
}

function readStat(pid: number): ProcessStat | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command is in parentheses and may itself contain spaces or parentheses.
    const close = text.lastIndexOf(")");
    const command = text.slice(text.indexOf("(") + 1, close);
    const fields = text.slice(close + 2).split(" ");
    // After the command: state(0) ppid(1) … utime(11) stime(12).
    const parent = Number(fields[1]);
    const ticks = Number(fields[11]) + Number(fields[12]);
    return { pid, parent, command, cpuMs: (ticks * 1000) / TICKS_PER_SECOND };
  } catch {
    return null;
  }
}

function allProcesses(): ProcessStat[] {
  const stats: ProcessStat[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat !== null) stats.push(stat);
  }
  return stats;
}

/** Processes descending from `root` (not `root` itself). */
function descendantsOf(root: number, stats: ProcessStat[]): ProcessStat[] {
  const children = new Map<number, ProcessStat[]>();
  for (const stat of stats) children.set(stat.parent, [...(children.get(stat.parent) ?? []), stat]);
  const found: ProcessStat[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    for (const child of children.get(pid) ?? []) {
      found.push(child);
      queue.push(child.pid);
    }
  }
  return found;
}

/** Summed CPU ms of this process's descendants whose command matches (e.g. /^workerd$/). */
export function descendantCpuMs(command: RegExp, root = process.pid): number {
  return descendantsOf(root, allProcesses())
    .filter((stat) => command.test(stat.command))
    .reduce((sum, stat) => sum + stat.cpuMs, 0);
}

/** Pids of this process's descendants whose command matches (e.g. /^workerd$/). */
export function descendantPids(command: RegExp, root = process.pid): number[] {
  return descendantsOf(root, allProcesses())
    .filter((stat) => command.test(stat.command))
    .map((stat) => stat.pid);
}

/** CPU ms of a process and everything below it (e.g. wrangler dev: its Node CLI and its workerd). */
export function processTreeCpuMs(root: number): number {
  const stats = allProcesses();
  const self = stats.find((stat) => stat.pid === root);
  return (self?.cpuMs ?? 0) + descendantsOf(root, stats).reduce((sum, stat) => sum + stat.cpuMs, 0);
}

/**
 * CPU ms of this process's children that have exited and been waited for (cutime + cstime):
 * how a short-lived client such as wrk is measured, since its /proc entry is gone by the end.
 */
export function reapedChildrenCpuMs(): number {
  const text = readFileSync("/proc/self/stat", "utf8");
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / TICKS_PER_SECOND;
}

/** CPU ms this process itself has used (the Node load client, when it runs in-process). */
export function ownCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

interface MachineTicks {
  busy: number;
  total: number;
}

function machineTicks(): MachineTicks {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  const total = values.reduce((sum, value) => sum + value, 0);
  return { busy: total - idle, total };
}

export interface CpuMeter {
  /** Server CPU ms used since the meter started, and the machine's busy share (0–1). */
  stop(): { serverCpuMs: number; clientCpuMs: number; machineBusy: number };
}

/**
 * Starts measuring: server = what `server` reports (CPU ms of the server's processes); client =
 * this process (`"in-process"`, the Node load generator) or children that exit before `stop`
 * (`"child"`, wrk).
 */
export function startCpuMeter(options: { server: () => number; client?: "in-process" | "child" }): CpuMeter {
  const clientCpu = (): number =>
    options.client === "in-process" ? ownCpuMs() : options.client === "child" ? reapedChildrenCpuMs() : 0;
  const server0 = options.server();
  const client0 = clientCpu();
  const machine0 = machineTicks();
  return {
    stop() {
      const machine1 = machineTicks();
      const client1 = clientCpu();
      const total = machine1.total - machine0.total;
      return {
        serverCpuMs: options.server() - server0,
        clientCpuMs: client1 - client0,
        machineBusy: total > 0 ? (machine1.busy - machine0.busy) / total : 0,
      };
    },
  };
}

/**
 * Waits until a server uses less than `busyBelow` of one core over `windowMs` (e.g. until the
 * collector has flushed the backlog an earlier step left), at most `timeoutMs`. Returns how
 * long it waited and whether it got quiet.
 */
export async function waitUntilQuiet(
  serverCpuMs: () => number,
  options: { busyBelow: number; windowMs: number; timeoutMs: number },
): Promise<{ waitedMs: number; quiet: boolean }> {
  const began = performance.now();
  for (;;) {
    const cpu0 = serverCpuMs();
    const wall0 = performance.now();
    await new Promise((resolve) => setTimeout(resolve, options.windowMs));
    const busy = (serverCpuMs() - cpu0) / (performance.now() - wall0);
    const waitedMs = performance.now() - began;
    if (busy < options.busyBelow) return { waitedMs, quiet: true };
    if (waitedMs >= options.timeoutMs) return { waitedMs, quiet: false };
  }
}
