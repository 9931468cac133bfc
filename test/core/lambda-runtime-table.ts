/**
 * Lambda's Node.js runtime behaviour, as documented by aws-lambda-nodejs-runtime-interface-client
 * (`Runtime.js`, `CallbackContext.js`, `UserFunction.js`, `Errors.js`): one row per behaviour, with the
 * handler module it runs and what Lambda answers. Every emulation of the runtime is checked against it.
 */
import { Script } from "node:vm";

/** What Lambda answers: a result, or an error (message exact or matched, the trace's first line). */
export type Expected =
  | { result: unknown }
  | { errorType: string; errorMessage: string | RegExp; trace?: string[]; traceStart?: string };

export interface Row {
  name: string;
  /** The module's file name in the fixture folder. @default "handlers.js" */
  file?: string;
  /** The export, `a.b` for nested ones. */
  handler: string;
  expected: Expected;
  /** A line the invocation's logs hold, or must not hold. */
  logs?: { includes?: string; excludes?: string };
  /**
   * The answer depends on the event loop emptying: the stub's fallback, which runs inside Lambda's own
   * runtime next to its MQTT connection, cannot observe that, so these rows are not its to answer.
   */
  eventLoop?: true;
  /** The fallback reports a missing export as a deployment problem instead (checked by `pulumi up`). */
  notFallback?: true;
}

export const FILES: Record<string, string> = {
  "handlers.js": `
exports.asyncValue = async (event) => ({ got: event });
exports.asyncUndefined = async () => undefined;
exports.syncValue = () => ({ ignored: true });
exports.syncSucceed = (event, context) => { context.succeed("by succeed"); };
exports.callbackLater = (event, context, callback) => { setTimeout(() => callback(null, "called back"), 10); };
exports.callbackWaits = (event, context, callback) => {
  setTimeout(() => console.log("timer fired"), 100);
  callback(null, "answered");
};
exports.callbackNoWait = (event, context, callback) => {
  context.callbackWaitsForEmptyEventLoop = false;
  setTimeout(() => console.log("timer fired"), 500).unref();
  callback(null, "answered");
};
exports.doneNoWait = (event, context) => {
  setTimeout(() => console.log("timer fired"), 500).unref();
  context.done(null, "by done");
};
exports.failEmpty = (event, context) => context.fail();
exports.failError = (event, context) => context.fail(new TypeError("bad input"));
exports.callbackString = (event, context, callback) => callback("plain string");
exports.throwSync = () => { throw new RangeError("thrown at once"); };
exports.throwString = () => { throw "boom"; };
exports.rejectObject = async () => { throw { code: 42 }; };
exports.rejectUndefined = () => Promise.reject(undefined);
exports.throwNumber = () => { throw 42; };
exports.firstWins = (event, context) => { context.succeed("first"); throw new Error("too late"); };
exports.callbackBeforePromise = (event, context, callback) => {
  callback(null, "from the callback");
  return Promise.resolve("from the promise");
};
exports.asyncNeverSettles = async () => { await new Promise(() => {}); };
exports.pendingPromise = () => new Promise(() => {});
exports.callbackNeverCalled = (event, context, callback) => {};
exports.circular = async () => { const o = {}; o.self = o; return o; };
exports.nested = { deeper: { handler: async () => "nested export" } };
exports.notAFunction = 42;
exports.deleteCharacter = async () => { throw new Error("a\\x7Fb"); };
exports.customError = async () => {
  class OrderError extends Error {}
  OrderError.prototype.name = "OrderError";
  throw new OrderError("no such order");
};
exports.context = async (event, context) => ({
  keys: Object.keys(context).sort(),
  waits: context.callbackWaitsForEmptyEventLoop,
  remaining: context.getRemainingTimeInMillis() > 0,
  json: Object.keys(JSON.parse(JSON.stringify(context))).sort(),
});
`,
  "syntax.js": "exports.handler = (;\n",
  "missing-dependency.js": "require('pulumi-live-not-installed');\nexports.handler = async () => 1;\n",
  "import-throws.js":
    "class ConfigError extends Error {}\nConfigError.prototype.name = 'ConfigError';\n" +
    "throw new ConfigError('TABLE is not set');\n",
  "esm-missing.mjs": "import 'pulumi-live-not-installed';\nexport const handler = async () => 1;\n",
  "esm.mjs": "export const handler = async () => `esm ${typeof require}`;\n",
};

function syntaxMessage(source: string): string {
  try {
    new Script(source);
  } catch (error) {
    return `SyntaxError: ${(error as Error).message}`;
  }
  throw new Error("expected a syntax error");
}

const CONTEXT_KEYS = [
  "awsRequestId",
  "callbackWaitsForEmptyEventLoop",
  "clientContext",
  "done",
  "fail",
  "functionName",
  "functionVersion",
  "getRemainingTimeInMillis",
  "identity",
  "invokedFunctionArn",
  "logGroupName",
  "logStreamName",
  "memoryLimitInMB",
  "succeed",
];

export const ROWS: Row[] = [
  {
    name: "an async handler's value is the result",
    handler: "asyncValue",
    expected: { result: { got: { n: 1 } } },
  },
  { name: "undefined is answered as null", handler: "asyncUndefined", expected: { result: null } },
  {
    name: "a synchronous handler's return value is ignored: null once the event loop is empty",
    handler: "syncValue",
    expected: { result: null },
  },
  { name: "context.succeed answers", handler: "syncSucceed", expected: { result: "by succeed" } },
  { name: "a callback answers when called", handler: "callbackLater", expected: { result: "called back" } },
  {
    name: "callbackWaitsForEmptyEventLoop (true): the answer waits for the event loop to empty",
    handler: "callbackWaits",
    expected: { result: "answered" },
    logs: { includes: "timer fired" },
    eventLoop: true,
  },
  {
    name: "callbackWaitsForEmptyEventLoop false: the callback answers at once",
    handler: "callbackNoWait",
    expected: { result: "answered" },
    logs: { excludes: "timer fired" },
  },
  {
    name: "context.done answers at once",
    handler: "doneNoWait",
    expected: { result: "by done" },
    logs: { excludes: "timer fired" },
  },
  {
    name: "context.fail() fails with the string 'handled'",
    handler: "failEmpty",
    expected: { errorType: "string", errorMessage: "handled", trace: [] },
  },
  {
    name: "context.fail(error) fails with the error",
    handler: "failError",
    expected: { errorType: "TypeError", errorMessage: "bad input", traceStart: "TypeError: bad input" },
  },
  {
    name: "a callback's non-error is reported by its type",
    handler: "callbackString",
    expected: { errorType: "string", errorMessage: "plain string", trace: [] },
  },
  {
    name: "a synchronous throw fails the invocation",
    handler: "throwSync",
    expected: {
      errorType: "RangeError",
      errorMessage: "thrown at once",
      traceStart: "RangeError: thrown at once",
    },
  },
  {
    name: "a thrown string",
    handler: "throwString",
    expected: { errorType: "string", errorMessage: "boom", trace: [] },
  },
  {
    name: "a thrown object",
    handler: "rejectObject",
    expected: { errorType: "object", errorMessage: "[object Object]", trace: [] },
  },
  {
    name: "a rejection without a reason is 'handled'",
    handler: "rejectUndefined",
    expected: { errorType: "string", errorMessage: "handled", trace: [] },
  },
  {
    name: "a thrown number",
    handler: "throwNumber",
    expected: { errorType: "number", errorMessage: "42", trace: [] },
  },
  { name: "the first answer wins", handler: "firstWins", expected: { result: "first" } },
  {
    name: "a callback called before the returned promise settles wins",
    handler: "callbackBeforePromise",
    expected: { result: "from the callback" },
  },
  {
    name: "an async handler whose promise never settles, with nothing left to do: Runtime.NodeJsExit",
    handler: "asyncNeverSettles",
    expected: {
      errorType: "Runtime.NodeJsExit",
      errorMessage: /^The Lambda runtime client detected an unexpected Node\.js exit code\./,
    },
    eventLoop: true,
  },
  {
    name: "a plain function's promise that never settles, with nothing left to do: null",
    handler: "pendingPromise",
    expected: { result: null },
    eventLoop: true,
  },
  {
    name: "a callback never called, with nothing left to do: null",
    handler: "callbackNeverCalled",
    expected: { result: null },
    eventLoop: true,
  },
  {
    name: "a result JSON cannot hold fails",
    handler: "circular",
    expected: {
      errorType: "Error",
      errorMessage: "Unable to stringify response body",
      traceStart: "Error: Unable to stringify response body",
    },
  },
  { name: "nested exports (a.b.c)", handler: "nested.deeper.handler", expected: { result: "nested export" } },
  {
    name: "a missing export: Runtime.HandlerNotFound",
    handler: "nope",
    expected: {
      errorType: "Runtime.HandlerNotFound",
      errorMessage: /^\S+\.nope is undefined or not exported$/,
    },
    notFallback: true,
  },
  {
    name: "an export that is not a function: Runtime.HandlerNotFound",
    handler: "notAFunction",
    expected: { errorType: "Runtime.HandlerNotFound", errorMessage: /^\S+\.notAFunction is not a function$/ },
    notFallback: true,
  },
  {
    name: "DEL in an error is escaped",
    handler: "deleteCharacter",
    expected: { errorType: "Error", errorMessage: "a%7Fb", traceStart: "Error: a%7Fb" },
  },
  {
    name: "an error's own name is its type",
    handler: "customError",
    expected: {
      errorType: "OrderError",
      errorMessage: "no such order",
      traceStart: "OrderError: no such order",
    },
  },
  {
    name: "the context has Lambda's fields and methods; undefined ones do not serialize",
    handler: "context",
    expected: {
      result: {
        keys: CONTEXT_KEYS,
        waits: true,
        remaining: true,
        json: CONTEXT_KEYS.filter(
          (key) => !["clientContext", "identity"].includes(key) && !/^(done|fail|succeed|get)/.test(key),
        ),
      },
    },
  },
  {
    name: "a syntax error at import: Runtime.UserCodeSyntaxError",
    file: "syntax.js",
    handler: "handler",
    expected: {
      errorType: "Runtime.UserCodeSyntaxError",
      errorMessage: syntaxMessage(FILES["syntax.js"]),
      traceStart: `Runtime.UserCodeSyntaxError: ${syntaxMessage(FILES["syntax.js"])}`,
    },
  },
  {
    name: "a CommonJS module's missing package: Runtime.ImportModuleError",
    file: "missing-dependency.js",
    handler: "handler",
    expected: {
      errorType: "Runtime.ImportModuleError",
      errorMessage: /^Error: Cannot find module 'pulumi-live-not-installed'\nRequire stack:\n/,
      traceStart: "Runtime.ImportModuleError: Error: Cannot find module 'pulumi-live-not-installed'",
    },
  },
  {
    name: "an ES module's missing package stays a plain Error, as on Lambda",
    file: "esm-missing.mjs",
    handler: "handler",
    expected: {
      errorType: "Error",
      errorMessage: /^Cannot find package 'pulumi-live-not-installed' imported from \S+esm-missing\.mjs$/,
    },
  },
  {
    name: "an error thrown at import keeps its type",
    file: "import-throws.js",
    handler: "handler",
    expected: {
      errorType: "ConfigError",
      errorMessage: "TABLE is not set",
      traceStart: "ConfigError: TABLE is not set",
    },
  },
  {
    name: "an ES module handler",
    file: "esm.mjs",
    handler: "handler",
    expected: { result: "esm undefined" },
  },
];
