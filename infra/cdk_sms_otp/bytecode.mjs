// Compiles every .py file under a directory to __pycache__/<module>.<cache tag>.pyc with Pyodide: CPython
// compiled to WebAssembly, so the bytecode is that of the Pyodide release's CPython, whatever the build
// host's Python is. Hash-based and unchecked (PEP 552): the CDK CLI zips every file with a 1980 mtime, so
// timestamp-checked .pyc would be stale on Lambda, and the asset is immutable anyway.
//
// Usage: node bytecode.mjs <directory> <expected major.minor> <pyodide directory>. Driven by infra/bytecode.py, which
// checks the report this prints as its last line of stdout (JSON). One process compiles the whole tree:
// loading the WebAssembly runtime is the expensive part (seconds), compiling a module is not.
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const [root, expected, pyodideDir] = process.argv.slice(2);
if (!root || !expected || !pyodideDir) {
  process.stderr.write("usage: node bytecode.mjs <directory> <python major.minor> <pyodide directory>\n");
  process.exit(2);
}
// Pyodide is the CDK app's (or the repository's) node_modules, not next to this file: the package may be
// installed anywhere.
const { loadPyodide } = await import(pathToFileURL(join(pyodideDir, "pyodide.mjs")).href);

const COMPILE = `
import importlib.util, json, os, py_compile, sys

version = "%d.%d" % sys.version_info[:2]
report = {
    "version": version,
    "magic": importlib.util.MAGIC_NUMBER.hex(),
    "cache_tag": sys.implementation.cache_tag,
    "optimize": sys.flags.optimize,
    "compiled": 0,
    "failed": [],
}
if version == EXPECTED and sys.flags.optimize == 0:
    for directory, subdirectories, files in os.walk("/asset"):
        subdirectories.sort()
        for name in sorted(files):
            if not name.endswith(".py"):
                continue
            path = os.path.join(directory, name)
            relative = os.path.relpath(path, "/asset")
            try:
                # dfile: the name stored in the code object; the import system replaces it with the
                # module's real path on load, and a relative one keeps the output independent of where
                # the build ran.
                py_compile.compile(
                    path,
                    dfile=relative,
                    doraise=True,
                    invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
                )
                report["compiled"] += 1
            except py_compile.PyCompileError as error:
                report["failed"].append(relative + ": " + error.msg.strip().splitlines()[-1])
json.dumps(report)
`;

const toStderr = (line) => process.stderr.write(`${line}\n`);
const pyodide = await loadPyodide({ stdout: toStderr, stderr: toStderr });
pyodide.FS.mkdir("/asset");
pyodide.FS.mount(pyodide.FS.filesystems.NODEFS, { root }, "/asset");
pyodide.globals.set("EXPECTED", expected);
process.stdout.write(`${pyodide.runPython(COMPILE)}\n`);
