// Serves public/ on http://localhost:$PORT (default 3000, the seed's callback URL): the page,
// its bundle and amplify_outputs.json ($AMPLIFY_OUTPUTS names another file to serve as it).
// No dependencies: node's own http module.
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("public/", import.meta.url));
const port = Number(process.env.PORT ?? 3000);
const types = { ".html": "text/html", ".js": "text/javascript", ".json": "application/json" };

createServer(async (request, response) => {
  const path = normalize(new URL(request.url, "http://localhost").pathname).replace(/^(\.\.[/\\])+/, "");
  const outputs = path === "/amplify_outputs.json" ? process.env.AMPLIFY_OUTPUTS : undefined;
  const file = outputs ?? join(root, path.endsWith("/") ? `${path}index.html` : path);
  try {
    const body = await readFile(file);
    response.writeHead(200, { "Content-Type": types[extname(file)] ?? "application/octet-stream" });
    response.end(body);
  } catch {
    response.writeHead(404).end("not found");
  }
}).listen(port, "127.0.0.1", () => console.log(`serving http://localhost:${port}/`));
