// Reads an Amplify configuration (JSON) on stdin, hands it to Amplify v6's own
// `Amplify.configure`, runs the checks Amplify's Auth category makes before it signs in, fetches
// credentials or starts the hosted UI, and prints `Amplify.getConfig()` as JSON on stdout.
// Exits non-zero, with Amplify's error on stderr, when any of them refuses the configuration.
import { Amplify } from "@aws-amplify/core";
import {
  assertIdentityPoolIdConfig,
  assertOAuthConfig,
  assertTokenProviderConfig,
} from "@aws-amplify/core/internals/utils";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
Amplify.configure(JSON.parse(Buffer.concat(chunks).toString("utf8")));
const config = Amplify.getConfig();
const cognito = config.Auth?.Cognito;
if (cognito?.userPoolId !== undefined) assertTokenProviderConfig(cognito);
if (cognito?.loginWith?.oauth !== undefined) assertOAuthConfig(cognito);
if (cognito?.identityPoolId !== undefined) assertIdentityPoolIdConfig(cognito);
process.stdout.write(JSON.stringify(config));
