/**
 * What the published package needs at run time (`files` in package.json: the compiled cli, sdk, protocol
 * and core, and the prebuilt stub bundle) is exactly its `dependencies` and `peerDependencies`: a
 * package only tests or the bundled stub use belongs in `devDependencies`.
 */
import { readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import path from "node:path";
import test from "ava";

const ROOT = path.join(__dirname, "../../..");
const DIST = path.join(ROOT, "dist");

function scripts(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return scripts(full);
    return entry.name.endsWith(".js") ? [full] : [];
  });
}

function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

test("the compiled package requires its dependencies and peers, and every dependency is required", (t) => {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
    files: string[];
    dependencies: Record<string, string>;
    peerDependencies: Record<string, string>;
  };
  const shipped = pkg.files.filter((f) => f.startsWith("dist/") && f !== "dist/stub");
  t.deepEqual(shipped.sort(), ["dist/cli", "dist/core", "dist/protocol", "dist/sdk"]);
  const builtins = new Set(builtinModules);
  const required = new Map<string, string>();
  for (const folder of shipped) {
    for (const file of scripts(path.join(ROOT, folder))) {
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(/\b(?:require|import)\(\s*"([^"]+)"\s*\)/g)) {
        const specifier = m[1];
        if (specifier.startsWith(".") || specifier.startsWith("node:") || builtins.has(specifier)) continue;
        required.set(packageName(specifier), path.relative(DIST, file));
      }
    }
  }
  const runtime = new Set([...Object.keys(pkg.dependencies), ...Object.keys(pkg.peerDependencies)]);
  const undeclared = [...required]
    .filter(([name]) => !runtime.has(name))
    .map(([name, by]) => `${name} (${by})`);
  t.deepEqual(undeclared, [], "required at run time but not in dependencies");
  const unused = Object.keys(pkg.dependencies).filter((name) => !required.has(name));
  t.deepEqual(unused, [], "in dependencies but never required by the shipped code: devDependencies?");
});
