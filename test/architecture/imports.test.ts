/**
 * The import boundaries of docs/architecture.md, checked on the sources: which part may import which,
 * and which packages each part may use. A new import that crosses a boundary fails here with the rule.
 */
import { readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import path from "node:path";
import test from "ava";

const ROOT = path.join(__dirname, "../../..");

interface Rule {
  /** Parts (top-level folders) it may import from, itself included. */
  parts: readonly string[];
  /** Packages it may import; `*` for any the package depends on. */
  packages: readonly string[] | "*";
  why: string;
}

/** The table of docs/architecture.md, "Parts and what each may import". */
export const RULES: Readonly<Record<string, Rule>> = {
  core: {
    parts: ["core", "protocol"],
    packages: [],
    why: "core/ is the dependency-free home of shared rules: Node built-ins and protocol/ only",
  },
  protocol: {
    parts: ["protocol", "core"],
    packages: [],
    why: "protocol/ is pure: no MQTT, AWS SDK or Pulumi, so stub and CLI share it and tests run it as functions",
  },
  stub: {
    parts: ["stub", "protocol", "core"],
    // aws-lambda: types only; esbuild: stub/build.ts, which makes the bundle at build time.
    packages: ["mqtt", "ws", "aws-lambda", "esbuild"],
    why: "the stub is bundled into the deployed function: it must not pull in the CLI or the SDK",
  },
  sdk: {
    parts: ["sdk", "protocol", "core"],
    packages: ["@pulumi/pulumi", "@pulumi/aws", "esbuild"],
    why: "the SDK runs inside pulumi up: it must not load the CLI (MQTT, workers) or the stub's code",
  },
  cli: {
    parts: ["cli", "protocol", "core"],
    packages: "*",
    why: "the CLI reaches the stub only through its bundle (core/names STUB_BUNDLE) and never imports the SDK",
  },
};

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "bundle" ? [] : sources(full);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") ? [full] : [];
  });
}

/** The code of a file without its comments (block comments and whole-line `//` comments). */
function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
}

/** Every module specifier of a file: static imports and exports, `import()` and `require()`. */
export function specifiers(text: string): string[] {
  const code = withoutComments(text);
  const found = [
    ...code.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+["']([^"']+)["']/gm),
    ...code.matchAll(/^\s*import\s+["']([^"']+)["']/gm),
    ...code.matchAll(/\b(?:require|import)\(\s*["']([^"']+)["']\s*\)/g),
  ];
  return found.map((m) => m[1]);
}

function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

const builtins = new Set(builtinModules);

test("each part imports only the parts and packages its rule allows; Node built-ins as node:", (t) => {
  const dependencies = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
  };
  const declared = new Set([
    ...Object.keys(dependencies.dependencies),
    ...Object.keys(dependencies.devDependencies),
  ]);
  const problems: string[] = [];
  let checked = 0;
  for (const [part, rule] of Object.entries(RULES)) {
    for (const file of sources(path.join(ROOT, part))) {
      const shown = path.relative(ROOT, file);
      for (const specifier of specifiers(readFileSync(file, "utf8"))) {
        checked++;
        if (specifier.startsWith("node:")) continue;
        if (builtins.has(specifier)) {
          problems.push(`${shown} imports "${specifier}": write "node:${specifier}"`);
          continue;
        }
        if (specifier.startsWith(".")) {
          const target = path.relative(ROOT, path.resolve(path.dirname(file), specifier));
          const targetPart = target.split(path.sep)[0];
          // package.json is read from dist/, one folder further down than the source.
          if (specifier.endsWith("/package.json") || rule.parts.includes(targetPart)) continue;
          problems.push(`${shown} imports ${target} (${targetPart}/): ${rule.why}`);
          continue;
        }
        const name = packageName(specifier);
        // A types-only package is declared as @types/<name>.
        const isDeclared = declared.has(name) || declared.has(`@types/${name}`);
        if (rule.packages === "*" ? isDeclared : rule.packages.includes(name)) continue;
        problems.push(`${shown} imports the package "${name}": ${rule.why}`);
      }
    }
  }
  t.true(checked > 100, `only ${checked} imports found: the scan is broken`);
  t.deepEqual(problems, []);
});

test("the scan finds each kind of import", (t) => {
  const text = [
    'import type { A } from "../cli/a";',
    'import {\n  b,\n  c,\n} from "mqtt";',
    'export { d } from "./d";',
    'import "./side-effect";',
    'const e = require("fs");',
    'const f = await import("@pulumi/pulumi/runtime");',
    '// import { g } from "commented";',
  ].join("\n");
  t.deepEqual(specifiers(text).sort(), [
    "../cli/a",
    "./d",
    "./side-effect",
    "@pulumi/pulumi/runtime",
    "fs",
    "mqtt",
  ]);
});

/** Every folder of sources the project writes: tests, benchmarks and examples too. */
const WRITTEN = ["core", "protocol", "stub", "sdk", "cli", "test", "bench", "examples"];

/**
 * What of Pulumi a source may load by path: a package, its package.json, and `@pulumi/pulumi/proto/*`,
 * the generated stubs of Pulumi's public engine protocol (what the local engine serves). Anything else
 * is the SDK's inside, which changes without notice between its versions.
 */
const PULUMI_PATHS = /^@pulumi\/[^/]+(?:\/package\.json)?$|^@pulumi\/pulumi\/proto\/[\w.-]+$/;
/** Internals of the SDK that are reachable at run time but not part of its API (`@internal`). */
const PULUMI_INTERNALS = /\b(?:waitForRPCs|setMockOptions|getStore|getLocalStore|_set[A-Z]\w*)\b/;
/** Assigning to a method of Pulumi's engine clients, or to anything under `pulumi.`: monkey-patching. */
const PULUMI_PATCHES = [
  /\.(?:registerResource|registerResourceOutputs|readResource|supportsFeature|registerPackage|setRootResource|getRootResource)\s*=(?!=)/,
  // Not a type annotation (`const o: pulumi.ResourceOptions = ...`).
  /(?<![:<|&]\s*)\bpulumi\.[\w.]+\s*=(?!=)/,
];

/** Where a source reaches into Pulumi past its public API: internal modules, internal names, patches. */
export function pulumiReaches(text: string): string[] {
  const code = withoutComments(text);
  const found: string[] = [];
  for (const m of code.matchAll(/["'`](@pulumi\/[^"'`\s]+)["'`]/g))
    if (!PULUMI_PATHS.test(m[1])) found.push(`loads Pulumi's internal module ${m[1]}`);
  for (const line of code.split("\n")) {
    const internal = PULUMI_INTERNALS.exec(line)?.[0];
    if (internal) found.push(`uses Pulumi's internal ${internal}`);
    for (const pattern of PULUMI_PATCHES) {
      const patch = pattern.exec(line)?.[0];
      if (patch) found.push(`replaces ${patch.replace(/\s*=$/, "")} of a Pulumi object`);
    }
  }
  return found;
}

test("no source reaches into Pulumi: no internal module by path, no internal name, no method replaced", (t) => {
  const problems: string[] = [];
  let scanned = 0;
  for (const part of WRITTEN) {
    for (const file of sources(path.join(ROOT, part))) {
      // This file spells the forbidden forms as examples.
      if (file === path.join(ROOT, "test", "architecture", "imports.test.ts")) continue;
      scanned++;
      const shown = path.relative(ROOT, file);
      for (const reach of pulumiReaches(readFileSync(file, "utf8")))
        problems.push(
          `${shown} ${reach}: use the SDK's public API, and the local engine (cli/program/local-engine.ts) for what a test must see of the engine`,
        );
    }
  }
  t.true(scanned > 100, `only ${scanned} files scanned: the scan is broken`);
  t.deepEqual(problems, []);
});

test("the Pulumi check finds each kind of reach and passes the public API", (t) => {
  const reaches = pulumiReaches;
  t.deepEqual(reaches('const s = require("@pulumi/pulumi/runtime/settings");'), [
    "loads Pulumi's internal module @pulumi/pulumi/runtime/settings",
  ]);
  t.deepEqual(reaches('import { x } from "@pulumi/aws/lambda/function";'), [
    "loads Pulumi's internal module @pulumi/aws/lambda/function",
  ]);
  t.deepEqual(reaches("await settings.waitForRPCs();"), ["uses Pulumi's internal waitForRPCs"]);
  t.deepEqual(reaches("pulumi.runtime._setIsDryRun(true);"), ["uses Pulumi's internal _setIsDryRun"]);
  t.deepEqual(reaches("monitor.registerResource = (req, cb) => register(req, cb);"), [
    "replaces .registerResource of a Pulumi object",
  ]);
  t.deepEqual(reaches("pulumi.runtime.invoke = fake;"), [
    "replaces pulumi.runtime.invoke of a Pulumi object",
  ]);
  for (const fine of [
    'import * as pulumi from "@pulumi/pulumi";',
    'const v = require("@pulumi/aws/package.json").version;',
    'load("@pulumi/pulumi/proto/resource_grpc_pb");',
    "if (monitor.registerResource === undefined) return;",
    "// monitor.registerResource = patched (a comment)",
    "pulumi.runtime.setAllConfig({});",
    "const options: pulumi.CustomResourceOptions = { parent: this };",
  ])
    t.deepEqual(reaches(fine), [], fine);
});
