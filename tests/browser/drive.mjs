// Drives the web example at URL in headless Chromium as a person would: as a guest, calls
// GET /noauth and GET /auth; signs in as USER (password from $AUTHDEMO_TEST_PASSWORD, never
// on the command line); calls GET /auth again. Prints what the page showed after each step, as
// JSON on stdout. Without ADMIN: then signs out, signs in again as USER through the hosted UI
// (the app's button, the sign-in page the user pool's domain serves, back to the app), calls
// GET /auth, and signs out (through the domain's /logout). With ADMIN (a member of the group
// `admins`, same password; a stack without a hosted UI): USER also calls DELETE /items/test, then
// signs out, and ADMIN signs in and calls it. Usage: node drive.mjs URL USER [ADMIN]
import { chromium } from "playwright-core";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [url, user, admin] = process.argv.slice(2);
const password = process.env.AUTHDEMO_TEST_PASSWORD;
const browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "authdemo-chromium-")), {
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  // The emulator's hosted UI answers https:// (as Amplify calls it) with a self-signed certificate.
  ignoreHTTPSErrors: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});
const page = browser.pages()[0] ?? (await browser.newPage());
const console_lines = [];
page.on("console", (message) => console_lines.push(`${message.type()}: ${message.text()}`));
page.on("pageerror", (error) => console_lines.push(`pageerror: ${error.message}`));
const hosted_ui_requests = [];
page.on("request", (request) => {
  if (request.url().includes("/_hosted_ui_/") || request.url().includes(".amazoncognito.com/")) {
    hosted_ui_requests.push(`${request.method()} ${new URL(request.url()).pathname.replace(/^.*\.amazoncognito\.com(\.cn)?/, "")}`);
  }
});

const result = () => page.locator("#result").textContent();
async function callShows(button, prefix) {
  await page.click(button);
  await page.waitForFunction((p) => document.getElementById("result").textContent.startsWith(p), prefix, { timeout: 20000 });
  await page.waitForFunction(() => !document.getElementById("result").textContent.includes("…"), null, { timeout: 20000 });
  return result();
}

const whoIs = (name) => page.waitForFunction((u) => document.getElementById("who").textContent === u, name, { timeout: 20000 });

// Signs out, then in through the hosted UI's own page, calls GET /auth, and signs out through it.
async function hostedUi() {
  await page.click("#sign-out-button");
  await whoIs("guest");
  await page.click("#hosted-ui-button");
  await page.waitForURL(/\/login\?/, { timeout: 20000 });
  seen.hosted_ui_page = new URL(page.url()).pathname;
  await page.fill("input[name=username]", user);
  await page.fill("input[name=password]", password);
  await page.click("button[name=signInSubmitButton]");
  await page.waitForURL((address) => address.href.startsWith(url), { timeout: 20000 });
  await whoIs(user);
  seen.hosted_ui_auth = await callShows("#call-auth", "GET /auth: ");
  await Promise.all([page.waitForRequest(/\/logout\?/, { timeout: 20000 }), page.click("#sign-out-button")]);
  await page.waitForURL((address) => address.href.startsWith(url), { timeout: 20000 });
  await whoIs("guest");
  seen.hosted_ui_signed_out = await page.locator("#who").textContent();
}

const seen = {};
try {
  await page.goto(url);
  await page.waitForFunction(() => document.getElementById("who").textContent === "guest", null, { timeout: 20000 });
  seen.guest_noauth = await callShows("#call-noauth", "GET /noauth: ");
  seen.guest_auth = await callShows("#call-auth", "GET /auth: ");
  await page.fill("#username", user);
  await page.fill("#password", password);
  await page.click("#sign-in-button");
  await page.waitForFunction((u) => document.getElementById("who").textContent === u, user, { timeout: 20000 });
  seen.signed_in_auth = await callShows("#call-auth", "GET /auth: ");
  if (!admin) {
    await hostedUi();
  } else {
    seen.signed_in_admin = await callShows("#call-admin", "DELETE /items/test: ");
    await page.click("#sign-out-button");
    await page.waitForFunction(() => document.getElementById("who").textContent === "guest", null, { timeout: 20000 });
    await page.fill("#username", admin);
    await page.fill("#password", password);
    await page.click("#sign-in-button");
    await page.waitForFunction((u) => document.getElementById("who").textContent === u, admin, { timeout: 20000 });
    seen.admin_admin = await callShows("#call-admin", "DELETE /items/test: ");
  }
} catch (error) {
  seen.error = `${error.message}\npage: ${await result().catch(() => "")}`;
} finally {
  seen.hosted_ui_requests = hosted_ui_requests;
  seen.console = console_lines;
  console.log(JSON.stringify(seen, null, 2));
  await browser.close();
}
