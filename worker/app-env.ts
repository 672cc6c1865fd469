/** The hono environment every router shares. */
import type { TraceContext } from "../tracing/trace-context";
import type { Config } from "../common/config";

export interface AppEnv {
  Bindings: Env;
  Variables: {
    config: Config;
    /**
     * The request's span context when its trace is recorded (worker/trace-request.ts), passed
     * on to the Durable Objects it calls; null when not recorded or tracing is off.
     */
    trace: TraceContext | null;
  };
}
