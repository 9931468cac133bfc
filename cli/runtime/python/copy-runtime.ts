/**
 * Build step (`npm run build`): copies the Python runtime script from the sources next to its compiled
 * wrapper, where `BOOTSTRAP` finds it in the published package.
 */
import { copyFileSync } from "node:fs";
import path from "node:path";
import { BOOTSTRAP } from "./python-process";

/** This file runs from dist/cli/runtime/python/; the script stays in cli/runtime/python/. */
const SOURCE = path.join(__dirname, "../../../../cli/runtime/python/bootstrap.py");

if (require.main === module) copyFileSync(SOURCE, BOOTSTRAP);
