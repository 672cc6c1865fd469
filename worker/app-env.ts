/** The hono environment every router shares. */
import type { Config } from "../common/config";

export interface AppEnv {
  Bindings: Env;
  Variables: {
    config: Config;
  };
}
