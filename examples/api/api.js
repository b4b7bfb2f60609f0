// The seed application's API function: one Lambda answering both routes of stacks/demo.yaml.
//   GET /noauth  public (API key only)
//   GET /auth    AWS_IAM: only callers signed with identity pool credentials get here
exports.handler = async (event) => {
  const identity = (event.requestContext && event.requestContext.identity) || {};
  const body = {
    message: `${process.env.GREETING || "hello"} from ${event.resource}`,
    // Guests have a Cognito identity too: only a signed-in user's is "authenticated".
    authenticated: identity.cognitoAuthenticationType === "authenticated",
    cognitoIdentityId: identity.cognitoIdentityId || null,
  };
  return {
    statusCode: 200,
    headers: { "Content-Type": "application/json", "Access-Control-Allow-Origin": "*" },
    body: JSON.stringify(body),
  };
};
