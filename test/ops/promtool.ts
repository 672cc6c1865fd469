/**
 * Running Prometheus's `promtool` (Debian package `prometheus`; `.ci/run` installs it) from
 * Node tests. A missing promtool is an error naming the fix, never a skipped test: the rule
 * and dashboard checks would otherwise pass by not running.
 */
import { execFile } from "node:child_process";

export interface PromtoolResult {
  exitCode: number;
  /** stdout and stderr together, as promtool prints its verdicts to both. */
  output: string;
}

const MISSING =
  "promtool is not installed: `apt-get install prometheus` (Debian; .ci/run does this) or put Prometheus's promtool on PATH";

export function promtool(
  args: readonly string[],
  options: { cwd?: string; stdin?: string } = {},
): Promise<PromtoolResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      "promtool",
      args,
      { cwd: options.cwd, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error !== null && (error as NodeJS.ErrnoException).code === "ENOENT") {
          reject(new Error(MISSING));
          return;
        }
        const exitCode = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
        resolve({ exitCode, output: `${stdout}${stderr}` });
      },
    );
    if (options.stdin !== undefined) child.stdin?.end(options.stdin);
  });
}

/** Fails with the install hint when promtool is absent; returns its version line. */
export async function requirePromtool(): Promise<string> {
  const { exitCode, output } = await promtool(["--version"]);
  if (exitCode !== 0) throw new Error(`${MISSING}\n${output}`);
  return output.split("\n")[0] ?? "";
}
