/**
 * CPU profiles of the Worker inside workerd, over its inspector (the DevTools protocol):
 * what limits the ingest figure, by function. `npm run bench -- --profile` records one while
 * the collector runs at its best load level, writes it as a `.cpuprofile` (open it in Chrome
 * DevTools → Performance) and prints the functions with the most self time.
 */
import { z } from "zod";

const callFrameSchema = z.object({
  functionName: z.string(),
  url: z.string(),
  lineNumber: z.number(),
  columnNumber: z.number(),
});
const profileSchema = z.object({
  nodes: z.array(z.object({ id: z.number(), callFrame: callFrameSchema, children: z.array(z.number()).optional() })),
  startTime: z.number(),
  endTime: z.number(),
  samples: z.array(z.number()),
  timeDeltas: z.array(z.number()),
});
export type CpuProfile = z.infer<typeof profileSchema>;

const replySchema = z.object({
  id: z.number(),
  result: z.unknown().optional(),
  error: z.object({ message: z.string() }).optional(),
});

/** A DevTools-protocol session with one workerd target (e.g. `core:user:edgepulse`). */
class InspectorSession {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();

  private constructor(private readonly socket: WebSocket) {
    socket.addEventListener("message", (event) => {
      const reply = replySchema.safeParse(JSON.parse(String(event.data)));
      if (!reply.success) return;
      const waiter = this.pending.get(reply.data.id);
      if (waiter === undefined) return;
      this.pending.delete(reply.data.id);
      if (reply.data.error) waiter.reject(new Error(reply.data.error.message));
      else waiter.resolve(reply.data.result);
    });
  }

  static open(url: string): Promise<InspectorSession> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url);
      socket.addEventListener("open", () => resolve(new InspectorSession(socket)), { once: true });
      socket.addEventListener("error", () => reject(new Error(`inspector ${url} unreachable`)), { once: true });
    });
  }

  send(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.socket.send(JSON.stringify({ id, method, params }));
    });
  }

  close(): void {
    this.socket.close();
  }
}

/** Profiles `target` on the inspector at `port` while `during` runs. */
export async function profileWorkerd(port: number, target: string, during: () => Promise<void>): Promise<CpuProfile> {
  const session = await InspectorSession.open(`ws://127.0.0.1:${port}/${target}`);
  try {
    await session.send("Profiler.enable");
    // 500 µs: fine enough for request handlers of a few ms, cheap enough not to skew them much.
    await session.send("Profiler.setSamplingInterval", { interval: 500 });
    await session.send("Profiler.start");
    await during();
    const result = z.object({ profile: profileSchema }).parse(await session.send("Profiler.stop"));
    return result.profile;
  } finally {
    session.close();
  }
}

export interface HotFunction {
  name: string;
  /** Share of all samples spent in the function itself. */
  selfShare: number;
  /** Share of samples with the function anywhere on the stack. */
  totalShare: number;
}

/** The functions with the most self time, each with its inclusive share. */
export function hotFunctions(profile: CpuProfile, limit = 15): HotFunction[] {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const label = (id: number): string => {
    const frame = byId.get(id)?.callFrame;
    if (frame === undefined) return "?";
    const file = frame.url.split("/").pop() ?? "";
    return `${frame.functionName || "(anonymous)"}${file ? ` ${file}:${frame.lineNumber + 1}` : ""}`;
  };
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  for (const sample of profile.samples) {
    const name = label(sample);
    self.set(name, (self.get(name) ?? 0) + 1);
    const onStack = new Set<string>();
    for (let id: number | undefined = sample; id !== undefined; id = parent.get(id)) onStack.add(label(id));
    for (const entry of onStack) total.set(entry, (total.get(entry) ?? 0) + 1);
  }
  const count = Math.max(1, profile.samples.length);
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([name, samples]) => ({ name, selfShare: samples / count, totalShare: (total.get(name) ?? 0) / count }));
}

export interface Phase {
  name: string;
  /** Function names that put a sample in this phase when found anywhere on its stack. */
  functions: readonly string[];
}

/**
 * Splits the samples into phases: a sample belongs to the first phase (in the given order)
 * with one of its functions on the stack; the rest is "other" (for the collector: the
 * Worker's request handling, whose async continuations have no named root, the runtime, GC).
 */
export function phaseShares(profile: CpuProfile, phases: readonly Phase[]): Record<string, number> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const counts: Record<string, number> = Object.fromEntries([
    ...phases.map((phase) => [phase.name, 0] as const),
    ["other", 0] as const,
  ]);
  for (const sample of profile.samples) {
    const onStack = new Set<string>();
    for (let id: number | undefined = sample; id !== undefined; id = parent.get(id))
      onStack.add(byId.get(id)?.callFrame.functionName ?? "");
    const phase = phases.find((candidate) => candidate.functions.some((name) => onStack.has(name)))?.name ?? "other";
    counts[phase] = (counts[phase] ?? 0) + 1;
  }
  const count = Math.max(1, profile.samples.length);
  return Object.fromEntries(Object.entries(counts).map(([name, samples]) => [name, samples / count]));
}
