// The seed's web client: Amplify v6 configured from `authdemo output --format amplify
// --show-sensitive` (public/amplify_outputs.json). Guests call GET /noauth with the API key;
// GET /auth is AWS_IAM: Amplify signs it (SigV4) with the identity pool's credentials, which
// only a signed-in user's role may use for it. DELETE /items/{id} (stacks/groups.yaml) is for
// members of the user pool group `admins`: their credentials carry the group's role. Users sign in
// with the form (USER_PASSWORD_AUTH) or through Cognito's hosted UI (the code flow with PKCE,
// `signInWithRedirect`): Amplify exchanges the code when the browser comes back to the callback
// URL, and signs out through `/logout`.
import { Amplify } from "aws-amplify";
import { fetchAuthSession, getCurrentUser, signIn, signInWithRedirect, signOut } from "aws-amplify/auth";
import { del, get } from "aws-amplify/api";
import { Hub } from "aws-amplify/utils";

const config = await (await fetch("amplify_outputs.json")).json();
Amplify.configure(config);
const apiKey = Object.values(config.custom?.apiKeys ?? {})[0];
const apiName = Object.keys(config.API.REST)[0];

const $ = (id) => document.getElementById(id);

function show(text) {
  $("result").textContent = text;
}

async function refreshWho() {
  try {
    const user = await getCurrentUser();
    $("who").textContent = user.username;
  } catch {
    $("who").textContent = "guest";
  }
}

async function call(path, method = "GET") {
  show(`calling ${method} ${path}…`);
  try {
    const send = method === "DELETE" ? del : get;
    const { body, statusCode } = await send({
      apiName,
      path,
      options: { headers: apiKey ? { "x-api-key": apiKey } : {} },
    }).response;
    const text = body ? JSON.stringify(await body.json(), null, 2) : "";
    show(`${method} ${path}: ${statusCode}\n${text}`);
  } catch (error) {
    const status = error.response?.statusCode ?? "failed";
    const body = error.response?.body ?? error.message;
    show(`${method} ${path}: ${status}\n${body}`);
  }
}

$("sign-in").addEventListener("submit", async (event) => {
  event.preventDefault();
  show("signing in…");
  try {
    const username = $("username").value;
    const password = $("password").value;
    const { isSignedIn, nextStep } = await signIn({ username, password, options: { authFlowType: "USER_PASSWORD_AUTH" } });
    await fetchAuthSession({ forceRefresh: true });
    show(isSignedIn ? `signed in as ${username}` : `sign-in needs another step: ${nextStep.signInStep}`);
  } catch (error) {
    show(`sign-in failed: ${error.name}: ${error.message}`);
  }
  await refreshWho();
});

$("sign-out-button").addEventListener("click", async () => {
  await signOut();
  await refreshWho();
  show("signed out");
});

$("hosted-ui-button").hidden = !config.Auth?.Cognito?.loginWith?.oauth;
$("hosted-ui-button").addEventListener("click", async () => {
  show("going to the hosted UI…");
  try {
    await signInWithRedirect();
  } catch (error) {
    show(`hosted UI failed: ${error.name}: ${error.message}`);
  }
});

Hub.listen("auth", async ({ payload }) => {
  if (payload.event === "signInWithRedirect") {
    await fetchAuthSession({ forceRefresh: true });
    show("signed in through the hosted UI");
    await refreshWho();
  } else if (payload.event === "signInWithRedirect_failure") {
    show(`hosted UI sign-in failed: ${payload.data?.error?.message ?? "unknown"}`);
  }
});

$("call-noauth").addEventListener("click", () => call("/noauth"));
$("call-auth").addEventListener("click", () => call("/auth"));
$("call-admin").addEventListener("click", () => call("/items/test", "DELETE"));

await refreshWho();
