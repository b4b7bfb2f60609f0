// One Lambda invocation for the emulator's API Gateway data plane (see dataplane.py):
//   node lambda_runner.js CODE_DIR HANDLER RESULT_FILE < event.json
// loads HANDLER ("file.export") from CODE_DIR as Lambda's Node.js runtime does (CommonJS or ES
// module), awaits it with the event on stdin, and writes its result as JSON to RESULT_FILE. The
// handler's own output goes to stdout and stderr, as its logs; a failure exits 1.
"use strict";
const fs = require("fs");
const path = require("path");
const { pathToFileURL } = require("url");

async function load(dir, file) {
  for (const extension of [".js", ".cjs", ".mjs"]) {
    const candidate = path.join(dir, file + extension);
    if (fs.existsSync(candidate)) {
      return extension === ".mjs" ? import(pathToFileURL(candidate).href) : require(candidate);
    }
  }
  throw new Error(`Cannot find module '${file}' in the function's code`);
}

function call(handler, event, context) {
  if (handler.length < 3) {
    return handler(event, context);
  }
  return new Promise((resolve, reject) => {
    const returned = handler(event, context, (error, value) => (error ? reject(error) : resolve(value)));
    if (returned && typeof returned.then === "function") {
      returned.then(resolve, reject);
    }
  });
}

async function main() {
  const [dir, handlerName, resultFile] = process.argv.slice(2);
  const dot = handlerName.lastIndexOf(".");
  const loaded = await load(dir, handlerName.slice(0, dot));
  const handler = loaded[handlerName.slice(dot + 1)];
  if (typeof handler !== "function") {
    throw new Error(`${handlerName} is undefined or not exported`);
  }
  const event = JSON.parse(fs.readFileSync(0, "utf8"));
  const deadline = Date.now() + Number(process.env.AWS_LAMBDA_FUNCTION_TIMEOUT) * 1000;
  const context = {
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: event.requestContext.requestId,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  const result = await call(handler, event, context);
  fs.writeFileSync(resultFile, JSON.stringify(result === undefined ? null : result));
  process.exit(0);
}

main().catch((error) => {
  console.error(error && error.stack ? error.stack : String(error));
  process.exit(1);
});
