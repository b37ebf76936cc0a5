// Managed Kafka's SASL/OAUTHBEARER token for the VM's own service account, in the form Google's login handler
// sends: base64url of a JWT-like header, of the claims (exp, iat, scope "kafka", sub = the account's email) and
// of the OAuth access token, joined by dots. The account and its token come from the VM's metadata server
// (GCE_METADATA_HOST overrides its address, as in Google's client libraries); nothing is stored.

const HEADER = JSON.stringify({ typ: "JWT", alg: "GOOG_OAUTH2_TOKEN" });
const b64url = (text: string) => Buffer.from(text, "utf8").toString("base64url");

interface AccessToken {
  access_token: string;
  expires_in: number;
}

/** The token Managed Kafka expects, built from an access token of `email` that expires `expiresIn` seconds after `nowMs`. */
export function managedKafkaToken(email: string, accessToken: string, expiresIn: number, nowMs: number): string {
  const iat = Math.floor(nowMs / 1000);
  const claims = JSON.stringify({ exp: iat + expiresIn, iat, scope: "kafka", sub: email });
  return [b64url(HEADER), b64url(claims), b64url(accessToken)].join(".");
}

/** One value of the VM's metadata server; a non-200 answer is an error naming the path and status. */
async function metadata(path: string): Promise<string> {
  const host = process.env.GCE_METADATA_HOST || "metadata.google.internal";
  const response = await fetch(`http://${host}/computeMetadata/v1/instance/${path}`, {
    headers: { "Metadata-Flavor": "Google" },
    signal: AbortSignal.timeout(5000),
  });
  if (response.status !== 200) throw new Error(`the metadata server answered ${response.status} for ${path}`);
  return response.text();
}

/** kafkajs's oauthBearerProvider: a fresh token from the metadata server on each (re)authentication. */
export async function oauthBearerFromMetadata(now: () => number = Date.now): Promise<{ value: string }> {
  const [email, tokenJson] = await Promise.all([
    metadata("service-accounts/default/email"),
    metadata("service-accounts/default/token"),
  ]);
  const token = JSON.parse(tokenJson) as AccessToken;
  return { value: managedKafkaToken(email, token.access_token, token.expires_in, now()) };
}
