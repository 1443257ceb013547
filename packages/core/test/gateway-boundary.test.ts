// Gateway packages build on the Gateway spec, the transport, money, errors and crypto, never on the
// engine: a gateway that reached into `createTender`'s internals could not be used with another
// engine version, and the engine could not change without breaking gateways. Imports go through the
// public `@tender/core` entry, so the rule is checked on what each imported name resolves to.
import { readdirSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const GATEWAYS = ['fiuu', 'stripe', 'paypal', 'upi'];
const ENGINE_DIR = join(root, 'packages/core/src/engine') + sep;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

function compilerOptions(): ts.CompilerOptions {
  const configPath = join(root, 'tsconfig.json');
  const config = ts.readConfigFile(configPath, ts.sys.readFile);
  return ts.parseJsonConfigFileContent(config.config, ts.sys, root).options;
}

interface CoreImport {
  file: string;
  name: string;
  module: string;
  declaredIn: string[];
}

/** The `<namespace>.<name>` property names used in `source`. */
function namespaceUses(source: ts.SourceFile, namespace: string): ts.Identifier[] {
  const uses: ts.Identifier[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === namespace && ts.isIdentifier(node.name)) uses.push(node.name);
    if (ts.isQualifiedName(node) && ts.isIdentifier(node.left) && node.left.text === namespace) uses.push(node.right);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return uses;
}

/** Every name a gateway's sources import from `@tender/core*` or from core's files, with where it is declared. */
function coreImports(): { imports: CoreImport[]; relativeReaches: string[] } {
  const files = GATEWAYS.flatMap((name) => sourceFiles(join(root, 'packages', name, 'src')));
  // Only the gateways' and core's own sources: imports resolve among them (the tsconfig paths map
  // `@tender/core` to core's sources) and nothing else is loaded, which keeps the check to seconds.
  const coreFiles = sourceFiles(join(root, 'packages/core/src'));
  const program = ts.createProgram([...files, ...coreFiles], { ...compilerOptions(), noEmit: true, noResolve: true, noLib: true, types: [] });
  const checker = program.getTypeChecker();
  const imports: CoreImport[] = [];
  const relativeReaches: string[] = [];
  for (const file of files) {
    const source = program.getSourceFile(file);
    if (!source) throw new Error(`not in the program: ${file}`);
    for (const statement of source.statements) {
      if (!ts.isImportDeclaration(statement) && !ts.isExportDeclaration(statement)) continue;
      const specifier = statement.moduleSpecifier;
      if (!specifier || !ts.isStringLiteral(specifier)) continue;
      const module = specifier.text;
      if (module.startsWith('.') && resolve(dirname(file), module).startsWith(join(root, 'packages/core'))) {
        relativeReaches.push(`${relative(root, file)} -> ${module}`);
      }
      if (!module.startsWith('@tender/core')) continue;
      const names: ts.Node[] = [];
      if (ts.isImportDeclaration(statement)) {
        const clause = statement.importClause;
        if (clause?.name) names.push(clause.name);
        const bindings = clause?.namedBindings;
        if (bindings && ts.isNamedImports(bindings)) names.push(...bindings.elements.map((element) => element.name));
        // `import * as core`: what counts is each `core.<name>` the file uses.
        if (bindings && ts.isNamespaceImport(bindings)) names.push(...namespaceUses(source, bindings.name.text));
      } else if (statement.exportClause && ts.isNamedExports(statement.exportClause)) {
        names.push(...statement.exportClause.elements.map((element) => element.name));
      }
      for (const identifier of names) {
        let symbol = checker.getSymbolAtLocation(identifier);
        if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
        const declaredIn = (symbol?.declarations ?? []).map((declaration) => declaration.getSourceFile().fileName);
        imports.push({ file: relative(root, file), name: identifier.getText(source), module, declaredIn });
      }
    }
  }
  return { imports, relativeReaches };
}

describe('gateway packages and the engine', () => {
  const { imports, relativeReaches } = coreImports();

  it('every gateway imports from @tender/core, and the check resolves what it imports', () => {
    for (const gateway of GATEWAYS) {
      expect(imports.some((entry) => entry.file.startsWith(`packages/${gateway}/`))).toBe(true);
    }
    const unresolved = imports.filter((entry) => entry.declaredIn.length === 0);
    expect(unresolved).toEqual([]);
  });

  it('no gateway source imports anything declared in the engine', () => {
    const fromEngine = imports.filter((entry) => entry.declaredIn.some((path) => resolve(path).startsWith(ENGINE_DIR)));
    expect(fromEngine.map((entry) => `${entry.file}: ${entry.name} (${entry.module})`)).toEqual([]);
  });

  it('no gateway source reaches into core by a relative path', () => {
    expect(relativeReaches).toEqual([]);
  });
});
