// Builds the SDK (run from the repository root: `npm run build:sdk`):
// - dist/ep.js, dist/ep.vitals.js and dist/ep.outbound.js: minified IIFEs for the script
//   tag, also copied to dashboard/public/, where the Worker serves them at /ep.js,
//   /ep.vitals.js and /ep.outbound.js;
// - dist/esm/: the npm package @edgepulse/sdk (readable ES modules; the app's bundler
//   minifies) with self-contained type declarations.
import { copyFile, mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import terser from "@rollup/plugin-terser";
import typescript from "@rollup/plugin-typescript";
import { declarations } from "./build/declarations.js";

const sdk = (path) => fileURLToPath(new URL(path, import.meta.url));
const tsconfig = sdk("tsconfig.json");
const compile = () =>
  typescript({ tsconfig, noEmitOnError: true, exclude: ["**/*.test.ts"], compilerOptions: { noEmit: false } });

const minify = () =>
  terser({
    ecma: 2020,
    compress: { passes: 3, unsafe: true, unsafe_arrows: true, pure_getters: true, booleans_as_integers: true },
    format: { comments: false },
  });

/** The Worker serves the scripts from its static assets; copies are build output (git-ignored). */
const copyToDashboard = (file) => ({
  name: "copy-to-dashboard",
  async writeBundle() {
    await mkdir(sdk("../dashboard/public"), { recursive: true });
    await copyFile(sdk(`dist/${file}`), sdk(`../dashboard/public/${file}`));
  },
});

const script = (input, file) => ({
  input: sdk(input),
  output: { file: sdk(`dist/${file}`), format: "iife", strict: false, plugins: [minify()] },
  plugins: [compile(), copyToDashboard(file)],
});

export default [
  script("src/script-tag.ts", "ep.js"),
  script("src/vitals/script-tag.ts", "ep.vitals.js"),
  script("src/outbound/script-tag.ts", "ep.outbound.js"),
  {
    input: { index: sdk("src/index.ts"), vitals: sdk("src/vitals/index.ts"), outbound: sdk("src/outbound/index.ts") },
    output: { dir: sdk("dist/esm"), format: "es", chunkFileNames: "[name].js" },
    plugins: [
      compile(),
      declarations({
        tsconfig,
        entries: ["src/index.ts", "src/vitals/index.ts", "src/outbound/index.ts"],
        outDir: sdk("dist/esm"),
      }),
    ],
  },
];
