/**
 * What the deployed bundle gets for `import { z } from "zod"` (wrangler.toml `[alias]`).
 *
 * zod's `z` is a namespace object, which esbuild cannot tree-shake: the Worker bundle carried
 * all of zod, 364 KiB of it the error messages of 50 languages and the JSON-schema converters,
 * none of which the collector uses. This object names only the members our code calls, so the
 * rest is dropped; English messages stay (zod registers them on the first schema it builds).
 * Type-checking and Node still see the real package, so types are unchanged.
 *
 * A member used in Worker code but missing here would be undefined at runtime:
 * zod-slim.test.ts checks every `z.<member>` in the bundled folders is listed.
 */
import {
  NEVER,
  ZodError,
  ZodType,
  array,
  boolean,
  coerce,
  discriminatedUnion,
  enum as enumSchema,
  lazy,
  literal,
  null as nullSchema,
  number,
  object,
  partialRecord,
  prettifyError,
  record,
  string,
  union,
} from "../node_modules/zod/v4/classic/external.js";

export const z = {
  NEVER,
  ZodError,
  ZodType,
  array,
  boolean,
  coerce,
  discriminatedUnion,
  enum: enumSchema,
  lazy,
  literal,
  null: nullSchema,
  number,
  object,
  partialRecord,
  prettifyError,
  record,
  string,
  union,
};

export default z;
