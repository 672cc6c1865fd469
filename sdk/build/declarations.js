// Rollup plugin: writes the npm package's .d.ts files, self-contained. The SDK's public types
// are derived from protocol/ (zod schemas, so `z.input<…>` types); a plain declaration emit
// would point at ../../protocol and need zod's types. Instead, every type alias of
// src/types.ts that reaches into protocol/ is written out expanded, the way the type checker
// sees it, so the published types have no dependency and still cannot drift from the protocol.
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";

/** Names whose presence in an emitted alias means it must be expanded. */
const PROTOCOL_REFERENCE = /\b(?:EventInput|BatchInput|InputOf|DataOf)\b/;

export function declarations({ tsconfig, entries, outDir }) {
  return {
    name: "self-contained-declarations",
    async writeBundle() {
      const sdkRoot = dirname(tsconfig);
      const sourceRoot = join(sdkRoot, "src");
      const config = ts.getParsedCommandLineOfConfigFile(
        tsconfig,
        {},
        {
          ...ts.sys,
          onUnRecoverableConfigFileDiagnostic: (d) => {
            throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
          },
        },
      );
      const program = ts.createProgram({
        rootNames: entries.map((entry) => resolve(sdkRoot, entry)),
        options: {
          ...config.options,
          noEmit: false,
          declaration: true,
          emitDeclarationOnly: true,
          outDir: undefined,
          rootDir: undefined,
        },
      });
      const checker = program.getTypeChecker();
      const outputs = new Map();
      const result = program.emit(undefined, (fileName, text) => outputs.set(fileName, text), undefined, true);
      const problems = [...ts.getPreEmitDiagnostics(program), ...result.diagnostics];
      if (problems.length)
        throw new Error(
          ts.formatDiagnostics(problems, {
            getCanonicalFileName: (f) => f,
            getCurrentDirectory: () => sdkRoot,
            getNewLine: () => "\n",
          }),
        );

      // Each alias of src/types.ts as the checker sees it, printed as a type literal.
      const typesSource = program.getSourceFile(join(sourceRoot, "types.ts"));
      const printer = ts.createPrinter();
      const expanded = new Map();
      ts.forEachChild(typesSource, (node) => {
        if (!ts.isTypeAliasDeclaration(node)) return;
        const flags =
          ts.NodeBuilderFlags.NoTruncation |
          ts.NodeBuilderFlags.InTypeAlias |
          ts.NodeBuilderFlags.MultilineObjectLiterals;
        const typeNode = checker.typeToTypeNode(checker.getTypeAtLocation(node.name), node, flags);
        expanded.set(node.name.text, printer.printNode(ts.EmitHint.Unspecified, typeNode, typesSource));
      });

      for (const [fileName, text] of outputs) {
        const source = resolve(fileName.replace(/\.d\.ts$/, ".ts"));
        if (!source.startsWith(sourceRoot) || source.endsWith(".test.ts")) continue;
        let output = text;
        if (source === join(sourceRoot, "types.ts")) output = rewriteTypes(text, expanded);
        if (/protocol/.test(output.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "")))
          throw new Error(`${fileName} still references protocol/`);
        const target = join(outDir, relative(sourceRoot, source).replace(/\.ts$/, ".d.ts"));
        await mkdir(dirname(target), { recursive: true });
        await writeFile(target, output);
      }
    },
  };
}

/** Drops the protocol import and the helper aliases, and expands every alias that used them. */
function rewriteTypes(text, expanded) {
  const file = ts.createSourceFile("types.d.ts", text, ts.ScriptTarget.Latest, true);
  let output = "";
  for (const statement of file.statements) {
    const source = statement.getFullText();
    if (ts.isImportDeclaration(statement) && /protocol/.test(statement.moduleSpecifier.getText())) continue;
    if (ts.isTypeAliasDeclaration(statement) && PROTOCOL_REFERENCE.test(statement.type.getText())) {
      const exported = statement.modifiers?.some((modifier) => modifier.kind === ts.SyntaxKind.ExportKeyword);
      if (!exported) continue;
      const name = statement.name.text;
      output +=
        source.slice(0, statement.getStart() - statement.getFullStart()) +
        `export type ${name} = ${expanded.get(name)};`;
      continue;
    }
    output += source;
  }
  return (
    "/** Public types of @edgepulse/sdk, expanded from protocol/ at build time (sdk/build/declarations.js). */\n" +
    output.trimStart() +
    "\n"
  );
}
